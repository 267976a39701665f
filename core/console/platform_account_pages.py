"""The platform console's own account page: a platform admin changes their password with the
rules of ``POST /api/v1/platform/auth/password`` (its schema and
``core.platform_admins.change_own_password``: the current password must match, and a wrong one
counts as a failed login of the account; the new one has the length rules and must differ).

After the change the admin's other console sessions end (a password is changed because it may
be known to someone else); this one stays signed in.
"""

from __future__ import annotations

import uuid

from flask import g, url_for

from core import platform_admins
from core.console.pages import ConsoleBlueprint
from core.console.rendering import read_form, redirect_with_notice, render_page
from core.console.sessions import end_other_platform_sessions
from core.errors import DomainError, Unprocessable
from core.platform.schemas import PlatformPasswordChangeSchema

blp = ConsoleBlueprint("platform_account_console", __name__, platform=True,
                       url_prefix="/platform/account")
blp.nav("My account", "account", order=90)


def _page(status: int = 200, errors=None, message=None):
    return render_page("console/platform_account.html", title="My account", status=status,
                       errors=errors or {}, message=message)


@blp.route("/")
@blp.platform_page
def account():
    return _page()


@blp.route("/password", methods=["POST"])
@blp.platform_page
def change_password():
    data, errors = read_form(PlatformPasswordChangeSchema())
    if errors:
        return _page(422, errors, "Check the fields marked below.")
    admin_id = uuid.UUID(g.identity.subject_id)
    try:
        platform_admins.change_own_password(admin_id, data["current_password"],
                                            data["new_password"])
    except DomainError as exc:  # 422 wrong current or invalid new password, 429 throttled
        if exc.status == 401:
            raise
        return _page(exc.status, exc.errors if isinstance(exc, Unprocessable) else {},
                     exc.message)
    end_other_platform_sessions(admin_id)
    return redirect_with_notice(url_for("platform_account_console.account"),
                                "Your password is changed; your other console sessions ended.")
