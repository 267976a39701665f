"""``POST /bootstrap`` and ``/api/v1/bootstrap`` (runbook 002 §2): ``bootstrap_tenant`` over
HTTP with ``Authorization: Bearer $BOOTSTRAP_TOKEN`` on a platform host.

The view is ``hostless`` so that it runs before the pipeline authenticates: the bootstrap token
is checked here (constant-time), and an unset token answers 404 whatever credentials are sent.
"""

from __future__ import annotations

import functools
import hmac
import logging

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from core.auth.identity import signer
from core.auth.tokens import TokenError
from core.blueprint import Blueprint, hostless, needs_schema
from core.bootstrap import NAME_MAX, bootstrap_tenant
from core.errors import Forbidden, NotFound, Unauthorized, Unprocessable
from core.extensions import db
from core.tenancy import PLATFORM, classify_host

log = logging.getLogger("tenantry.bootstrap")


blp = Blueprint("bootstrap", __name__,
                description="First tenant and API key (BOOTSTRAP_TOKEN; platform hosts)")


class BootstrapSchema(Schema):
    tenant_name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    owner_email = fields.Email(load_default=None)
    owner_password = fields.String(load_default=None, load_only=True,
                                   validate=validate.Length(min=8, max=1024))


class BootstrapResultSchema(Schema):
    tenant_id = fields.UUID(required=True)
    api_key = fields.String(required=True, metadata={
        "description": "Shown once; only its SHA-256 is stored"})
    message = fields.String(required=True)
    key_id = fields.UUID()
    tenant_slug = fields.String()
    role = fields.String()
    modules = fields.List(fields.String())


def _require_bootstrap_token() -> None:
    expected = current_app.config.get("BOOTSTRAP_TOKEN")
    if not expected:
        raise NotFound("not found")
    config = current_app.config
    host = classify_host(request.host, config["ROOT_DOMAIN"], config["PLATFORM_HOSTS"],
                         config["RESERVED_SUBDOMAINS"])
    if host.kind != PLATFORM:
        raise NotFound("not found")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), expected.encode()):
        return
    if scheme.lower() == "bearer" and _is_valid_jwt(token):
        raise Forbidden("POST /bootstrap takes the BOOTSTRAP_TOKEN; with a platform or tenant "
                        "login, create tenants with POST /api/v1/platform/tenants")
    raise Unauthorized("a valid bootstrap token is required (Authorization: Bearer ...)")


def _is_valid_jwt(token: str) -> bool:
    try:
        signer().verify(token)
    except TokenError:
        return False
    return True


def _token_first(view):
    """Check the token before the body is parsed: no 422 tells a stranger anything."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        _require_bootstrap_token()
        return view(*args, **kwargs)

    return wrapper


@needs_schema
@hostless
class Bootstrap(MethodView):
    @_token_first
    @blp.arguments(BootstrapSchema)
    @blp.response(201, BootstrapResultSchema)
    @blp.doc(security=[{"platformBearer": []}])
    @blp.alt_response(401, description="Missing or wrong bootstrap token")
    @blp.alt_response(403, description="A login token instead of the bootstrap token")
    @blp.alt_response(404, description="BOOTSTRAP_TOKEN is not set, or not a platform host")
    @blp.alt_response(409, description="A tenant of this name exists")
    def post(self, data):
        """Provision a tenant and its first (admin) API key; the key is shown once."""
        if data["owner_email"] and not data["owner_password"]:
            raise Unprocessable("owner_password is required with owner_email",
                                {"owner_password": ["required with owner_email"]})
        done = bootstrap_tenant(data["tenant_name"], owner_email=data["owner_email"],
                                owner_password=data["owner_password"])
        db.session.flush()  # the request commits; a failure there answers 503, keeps nothing
        return {"tenant_id": done.tenant.id, "api_key": done.key.raw,
                "message": f"Tenant '{done.tenant.name}' provisioned.",
                "key_id": done.key.key.id, "tenant_slug": done.tenant.slug,
                "role": done.key.key.role, "modules": done.modules}


for _path in ("/bootstrap", "/api/v1/bootstrap"):
    blp.add_url_rule(_path, endpoint="bootstrap" + _path.replace("/", "_"), view_func=Bootstrap)
