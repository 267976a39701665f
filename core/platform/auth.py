"""``POST /api/v1/platform/auth/login``: platform admins get a platform JWT."""

from __future__ import annotations

from flask.views import MethodView

from core.auth import services
from core.auth.routes import LoginSchema, TokenSchema
from core.http import login_endpoint
from core.platform.blueprint import blp


@blp.route("/auth/login")
@login_endpoint("platform login")  # start and end lines with the final status: core.http
class PlatformLogin(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong e-mail or password")
    @blp.alt_response(429, description="Too many failed logins for this account; see Retry-After")
    def post(self, credentials):
        """Log in as a platform admin; returns a platform bearer JWT."""
        token, expires = services.login_platform_user(credentials["email"],
                                                      credentials["password"])
        return {"access_token": token, "token_type": "bearer", "expires_at": expires}
