"""``POST /api/v1/platform/auth/login``: platform admins get a platform JWT."""

from __future__ import annotations

import logging

from flask.views import MethodView

from core.auth import services
from core.auth.routes import LoginSchema, TokenSchema
from core.platform.blueprint import blp

log = logging.getLogger("tenantry.auth")


@blp.route("/auth/login")
class PlatformLogin(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong e-mail or password")
    def post(self, credentials):
        """Log in as a platform admin; returns a platform bearer JWT."""
        log.info("platform login start email=%s", credentials["email"])
        try:
            token, expires = services.login_platform_user(credentials["email"],
                                                          credentials["password"])
        except Exception as exc:
            log.info("platform login end email=%s status=%s", credentials["email"],
                     getattr(exc, "status", 500))
            raise
        log.info("platform login end email=%s status=200", credentials["email"])
        return {"access_token": token, "token_type": "bearer", "expires_at": expires}
