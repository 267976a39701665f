"""Tenant bootstrap (runbook 002 §2): a new tenant and its first API key, shown once.

``POST /bootstrap`` (and ``/api/v1/bootstrap``) with ``Authorization: Bearer $BOOTSTRAP_TOKEN``
on a platform host, or ``flask bootstrap TENANT_NAME`` on the server.

- The tenant's slug (host label) is ``core.tenant_lifecycle.slugify(tenant_name)``; its modules are
  BOOTSTRAP_MODULES (ClinCore: ``cases``) plus the platform modules (billing).
- The key's label is ``bootstrap-<tenant_name>`` and its role is **admin**: it is the tenant's
  only credential, and ClinCore's ``user`` default left operators running
  ``UPDATE api_keys SET role = 'admin'`` by hand to reach ``/admin/*`` (key revocation, usage) —
  SQL that the app role cannot even run under row level security. Rotate it, or create ``user``
  keys for applications with it, and revoke it.
- Without BOOTSTRAP_TOKEN the endpoint does not exist (404): the runbook says to unset the
  token after the first deployment, and the route should then be gone, not merely refuse.

The view is ``hostless`` so that it runs before the pipeline authenticates: the bootstrap token
is checked here (constant-time), and an unset token answers 404 whatever credentials are sent.
"""

from __future__ import annotations

import functools
import hmac
import logging
from dataclasses import dataclass

import click
from flask import current_app, request
from flask.cli import with_appcontext
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from core.auth.apikey_services import IssuedKey, create_key
from core.auth.identity import signer
from core.auth.tokens import TokenError
from core.blueprint import Blueprint, hostless, needs_schema
from core.errors import DomainError, Forbidden, NotFound, Unauthorized, Unprocessable
from core.extensions import db
from core.models import Tenant
from core.modules import registry, tenant_modules
from core.tenancy import PLATFORM, classify_host
from core.tenant_lifecycle import create_tenant, slugify

log = logging.getLogger("tenantry.bootstrap")

BOOTSTRAP_ROLE = "admin"
NAME_MAX = 190  # the key label "bootstrap-<name>" must fit in 200 characters


@dataclass(frozen=True)
class Bootstrapped:
    tenant: Tenant
    key: IssuedKey
    modules: list[str]


def bootstrap_tenant(tenant_name: str, *, owner_email: str | None = None,
                     owner_password: str | None = None,
                     modules: tuple[str, ...] | None = None) -> Bootstrapped:
    """Create the tenant, its modules, optionally its owner, and an admin key. Flush only."""
    name = (tenant_name or "").strip()
    slug = slugify(name)
    if not name or len(name) > NAME_MAX or not slug:
        raise Unprocessable("invalid tenant name", {"tenant_name": [
            f"1 to {NAME_MAX} characters including a letter or digit"]})
    wanted = current_app.config["BOOTSTRAP_MODULES"] if modules is None else modules
    # A module blocked by DISABLED_PLUGINS is not an error: the default names ClinCore's
    # module, which a deployment without it simply does not have.
    available = [key for key in wanted if registry().module(key) is not None]
    try:
        tenant = create_tenant(slug=slug, name=name, owner_email=owner_email,
                               owner_password=owner_password,
                               modules={key: {} for key in available})
    except Unprocessable as exc:
        # The slug is derived; tell the caller which of *their* fields is wrong.
        errors = dict(exc.errors or {})
        if "slug" in errors:
            errors["tenant_name"] = errors.pop("slug")
        raise Unprocessable(exc.message.replace("slug", "name"), errors) from exc
    key = create_key(tenant.id, label=f"bootstrap-{name}", role=BOOTSTRAP_ROLE,
                     created_by="bootstrap")
    enabled = [view.key for view in tenant_modules(tenant.id) if view.enabled]
    log.info("tenant bootstrapped slug=%s tenant_id=%s key_id=%s key_role=%s", tenant.slug,
             tenant.id, key.key.id, BOOTSTRAP_ROLE)
    return Bootstrapped(tenant, key, enabled)


# --------------------------------------------------------------------------- HTTP

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


# --------------------------------------------------------------------------- CLI


@click.command("bootstrap")
@click.argument("tenant_name")
@click.option("--owner-email", default=None, help="Also create the tenant's first owner.")
@click.option("--owner-password", default=None, help="Prompted for when --owner-email is set.")
@with_appcontext
def bootstrap_command(tenant_name, owner_email, owner_password):
    """Provision a tenant and its first admin API key (printed once), as POST /bootstrap."""
    if owner_email and not owner_password:
        owner_password = click.prompt("Owner password", hide_input=True,
                                      confirmation_prompt=True)
    try:
        done = bootstrap_tenant(tenant_name, owner_email=owner_email,
                                owner_password=owner_password)
        lines = [f"Tenant '{done.tenant.name}' provisioned.",
                 f"tenant_id: {done.tenant.id}",
                 f"tenant host: {done.tenant.slug}.{current_app.config['ROOT_DOMAIN']}",
                 f"modules: {', '.join(done.modules) or '-'}",
                 f"api key id: {done.key.key.id} (role {done.key.key.role})",
                 f"api_key: {done.key.raw}",
                 "Store the key now: it is shown only once."]
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        details = f" {exc.errors}" if exc.errors else ""
        raise click.ClickException(f"{exc.message}{details}") from exc
    for line in lines:
        click.echo(line)
