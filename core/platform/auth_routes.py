"""Platform admins' own credentials: ``POST /api/v1/platform/auth/login`` (a platform JWT) and
``POST /api/v1/platform/auth/password`` (change one's own password)."""

from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from core import platform_admins
from core.auth import services
from core.auth.identity import PLATFORM_ADMIN
from core.auth.routes import LoginSchema, TokenSchema
from core.blueprint import login_endpoint
from core.errors import Forbidden
from core.extensions import db
from core.platform.api_root import blp
from core.platform.schemas import PlatformPasswordChangeSchema


@blp.route("/auth/login")
@login_endpoint("platform login")  # start and end lines with the final status: core.request_log
class PlatformLogin(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong e-mail or password")
    @blp.alt_response(429, description="Too many failed logins from this client address, for "
                                       "this account, or in all; see Retry-After")
    @blp.alt_response(503, description="Every password-hashing slot stayed busy; see Retry-After")
    def post(self, credentials):
        """Log in as a platform admin; returns a platform bearer JWT."""
        token, expires = services.login_platform_user(credentials["email"],
                                                      credentials["password"])
        return {"access_token": token, "token_type": "bearer", "expires_at": expires}


@blp.route("/auth/password")
class PlatformOwnPassword(MethodView):
    @blp.arguments(PlatformPasswordChangeSchema)
    @blp.response(204)
    @blp.alt_response(403, description="Not a platform admin's login (e.g. the bootstrap token)")
    @blp.alt_response(422, description="Current password wrong, or new password invalid")
    @blp.alt_response(429, description="Too many wrong passwords for this account (shared with "
                                       "login); see Retry-After")
    @blp.alt_response(503, description="Every password-hashing slot stayed busy; see Retry-After")
    @blp.requires_platform
    def post(self, data):
        """Change your own password (platform admin login only).

        Tokens issued before stay valid until they expire (JWT_TTL_SECONDS). A wrong current
        password counts as a failed login of the account.
        """
        if g.identity.kind != PLATFORM_ADMIN:
            raise Forbidden("only a platform admin's own login can change its password")
        platform_admins.change_own_password(uuid.UUID(g.identity.subject_id),
                                            data["current_password"], data["new_password"])
        db.session.flush()
