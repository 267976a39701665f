"""Tenant login and the authenticated echo (runbook 000 "Running and health")."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from core.auth import services
from core.auth.passwords import MAX_LENGTH
from core.blueprint import Blueprint, login_endpoint
from core.extensions import db

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="Tenant user login (on the tenant's host)")


class LoginSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=MAX_LENGTH))


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class MeSchema(Schema):
    kind = fields.String(required=True)
    id = fields.String(required=True)
    role = fields.String(allow_none=True)
    tenant_id = fields.UUID(allow_none=True)
    tenant = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    label = fields.String(allow_none=True)


@blp.route("/login")
@login_endpoint("login")  # start and end lines with the final status: core.request_log
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong e-mail or password, or inactive user")
    @blp.alt_response(429, description="Too many failed logins from this client address, for "
                                       "this account, or in all; see Retry-After")
    @blp.alt_response(503, description="Every password-hashing slot stayed busy; see Retry-After")
    def post(self, credentials):
        """Log in with e-mail and password; returns a bearer JWT for this tenant."""
        token, expires = services.login_tenant_user(
            g.tenant.id, credentials["email"], credentials["password"])
        db.session.flush()
        return {"access_token": token, "token_type": "bearer", "expires_at": expires}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.requires_roles()
    def get(self):
        """Echo the authenticated identity."""
        identity = g.identity
        return {"kind": identity.kind, "id": identity.subject_id, "role": identity.role,
                "tenant_id": identity.tenant_id, "tenant": g.tenant.slug,
                "email": identity.label if identity.kind == "user" else None,
                "label": identity.label}
