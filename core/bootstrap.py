"""Tenant bootstrap (runbook 002 §2): a new tenant and its first API key, shown once.

``POST /bootstrap`` (core/bootstrap_routes.py) with ``Authorization: Bearer $BOOTSTRAP_TOKEN``
on a platform host, or ``tenantry bootstrap TENANT_NAME`` (core/commands/bootstrap_command.py)
on the server; both call ``bootstrap_tenant`` here.

- The tenant's slug (host label) is ``core.tenant_lifecycle.slugify(tenant_name)``; its modules are
  BOOTSTRAP_MODULES (ClinCore: ``cases``) plus the platform modules (billing).
- The key's label is ``bootstrap-<tenant_name>`` and its role is **admin**: it is the tenant's
  only credential, and ClinCore's ``user`` default left operators running
  ``UPDATE api_keys SET role = 'admin'`` by hand to reach ``/admin/*`` (key revocation, usage) —
  SQL that the app role cannot even run under row level security. Rotate it, or create ``user``
  keys for applications with it, and revoke it.
- Without BOOTSTRAP_TOKEN the endpoint does not exist (404): the runbook says to unset the
  token after the first deployment, and the route should then be gone, not merely refuse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from core.auth.apikey_services import IssuedKey, create_key
from core.errors import Unprocessable
from core.models import Tenant
from core.modules import registry, tenant_modules
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
