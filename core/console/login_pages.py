"""Signing in and out of the console: ``/login`` and ``/logout`` on a tenant's host,
``/platform/login`` and ``/platform/logout`` on a platform host.

The same account checks as the API's logins (core/auth/services.py), so the login throttle
and the login log lines apply to the console too; a session starts only for valid credentials
and the cookie is set on the redirect back to the page that asked for it.
"""

from __future__ import annotations

from flask import g, request
from marshmallow import Schema, fields, validate

from core.auth.services import verify_platform_user, verify_tenant_user
from core.blueprint import login_endpoint
from core.console.pages import ConsoleBlueprint
from core.console.rendering import read_form, redirect_with_notice, render_page, safe_next
from core.console.sessions import (
    clear_session_cookie,
    end_session,
    set_session_cookie,
    start_platform_session,
    start_tenant_session,
)
from core.errors import DomainError

tenant_login_blp = ConsoleBlueprint("console_login", __name__)
platform_login_blp = ConsoleBlueprint("platform_console_login", __name__, platform=True,
                                      url_prefix="/platform")


class LoginFormSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


def _login(platform: bool, home: str):
    target = safe_next(request.values.get("next"), home)
    if request.method == "GET" and g.identity is not None:
        return redirect_with_notice(target)
    errors, message, status, email = {}, None, 200, ""
    if request.method == "POST":
        data, errors = read_form(LoginFormSchema())
        email = request.form.get("email", "")[:254]
        status = 422 if errors else 200
        if not errors:
            try:
                if platform:
                    token = start_platform_session(
                        verify_platform_user(data["email"], data["password"]))
                else:
                    token = start_tenant_session(g.tenant.id, verify_tenant_user(
                        g.tenant.id, data["email"], data["password"]))
            except DomainError as exc:  # 401 wrong credentials, 429 throttled
                message, status = exc.message, exc.status
            else:
                response = redirect_with_notice(target)
                set_session_cookie(response, token, platform)
                return response
    return render_page("console/login.html", title="Sign in", status=status, errors=errors,
                       message=message, email=email, next=target, platform_login=platform)


def _logout(platform: bool, login: str):
    end_session(platform)
    response = redirect_with_notice(login, "You are signed out.")
    clear_session_cookie(response, platform)
    return response


@tenant_login_blp.route("/login", methods=["GET", "POST"])
@login_endpoint("console login")
def tenant_login():
    return _login(platform=False, home="/")


@tenant_login_blp.route("/logout", methods=["POST"])
def tenant_logout():
    return _logout(platform=False, login="/login")


@platform_login_blp.route("/login", methods=["GET", "POST"])
@login_endpoint("platform console login")
def platform_login():
    return _login(platform=True, home="/platform/")


@platform_login_blp.route("/logout", methods=["POST"])
def platform_logout():
    return _logout(platform=True, login="/platform/login")
