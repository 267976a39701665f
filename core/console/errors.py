"""Errors on console pages answer as pages, not JSON: 401 redirects to the login page (and
back after it), other statuses render the error page with the same message the API would
give. Registered on every console blueprint, so the API's JSON errors are untouched."""

from __future__ import annotations

from urllib.parse import quote

from flask import g, redirect, request
from werkzeug.exceptions import HTTPException

from core.console.rendering import is_platform_page, render_page
from core.errors import DomainError, database_error_response
from core.tenancy import PLATFORM


def _login_redirect():
    platform = is_platform_page()
    host = g.get("host")
    if not platform and host is not None and host.kind == PLATFORM:
        return redirect("/platform/", code=303)  # a tenant page asked on a platform host
    login = "/platform/login" if platform else "/login"
    return redirect(f"{login}?next={quote(request.full_path.rstrip('?'), safe='/?=&')}",
                    code=303)


def _page(status: int, message: str, headers=None):
    response = render_page("console/error.html", title=f"Error {status}", status=status,
                           bare=status >= 500, code=status, reason=message)
    for name, value in (headers or {}).items():
        if name.lower() in ("retry-after", "allow"):
            response.headers[name] = value
    return response


def _domain_error(exc: DomainError):
    if exc.status == 401:
        return _login_redirect()
    return _page(exc.status, exc.message, exc.headers)


def _http_error(exc: HTTPException):
    return _page(exc.code or 500, exc.description or exc.name)


def _database_error(exc: Exception):
    answer = database_error_response(exc)
    if answer is None:
        raise exc
    body = answer.get_json(silent=True) or {}
    return _page(answer.status_code, body.get("message", "the database could not answer"),
                 answer.headers)


def register_page_errors(blueprint) -> None:
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from core.role_check import UnsafeDatabaseRole

    blueprint.register_error_handler(DomainError, _domain_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    for error in (DBAPIError, PoolTimeout, UnsafeDatabaseRole):
        blueprint.register_error_handler(error, _database_error)
