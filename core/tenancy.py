"""Host -> tenant resolution, the tenant and toggle caches, and the request guard.

Resolution (runbook 000, "Tenancy"): strip the port, lower-case the host. A host in
PLATFORM_HOSTS is the platform. ``<label>.<ROOT_DOMAIN>`` names tenant ``<label>`` unless the
label is reserved. Unknown or reserved -> 404, inactive -> 403, not ready (provisioning,
failed, migrations behind) -> 503 with the reason; all before any view runs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request
from sqlalchemy import select

from core.app_state import app_state
from core.cache import TTLCache
from core.errors import Forbidden, NotFound, ServiceUnavailable
from core.extensions import db
from core.models import Tenant, TenantModule

log = logging.getLogger("tenantry.tenancy")

PLATFORM = "platform"
TENANT = "tenant"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class HostMatch:
    kind: str  # PLATFORM | TENANT | UNKNOWN
    slug: str | None = None


@dataclass(frozen=True)
class TenantInfo:
    id: uuid.UUID
    slug: str
    name: str
    status: str
    status_reason: str | None


@dataclass(frozen=True)
class ModuleState:
    enabled: bool
    features: dict[str, Any]


def classify_host(host: str, root_domain: str, platform_hosts: tuple[str, ...],
                  reserved: tuple[str, ...]) -> HostMatch:
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal: [::1]:8000
        host = host[: host.find("]") + 1]
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.rstrip(".")
    if host in platform_hosts:
        return HostMatch(PLATFORM)
    suffix = "." + root_domain
    if root_domain and host.endswith(suffix):
        label = host[: -len(suffix)]
        if label and "." not in label and label not in reserved:
            return HostMatch(TENANT, label)
    return HostMatch(UNKNOWN)


# Columns, not entities: a cache miss (most requests, with more tenants than a worker sees in
# TENANT_CACHE_TTL) then builds no ORM objects.
_TENANT_COLUMNS = (Tenant.id, Tenant.slug, Tenant.name, Tenant.status, Tenant.status_reason)


def _tenant_info(row) -> TenantInfo | None:
    if row is None:
        return None
    return TenantInfo(row.id, row.slug, row.name, row.status, row.status_reason)


class Tenancy:
    """Per-app caches of tenants and their module toggles, with a short TTL."""

    def __init__(self, ttl: float) -> None:
        self.tenants = TTLCache(ttl)
        self.toggles = TTLCache(ttl)

    def by_slug(self, slug: str) -> TenantInfo | None:
        return self.tenants.get_or_load(("slug", slug), lambda: _tenant_info(
            db.session.execute(select(*_TENANT_COLUMNS).where(Tenant.slug == slug)).first()))

    def by_id(self, tenant_id: uuid.UUID) -> TenantInfo | None:
        return self.tenants.get_or_load(("id", tenant_id), lambda: _tenant_info(
            db.session.execute(select(*_TENANT_COLUMNS).where(Tenant.id == tenant_id)).first()))

    def module_states(self, tenant_id: uuid.UUID) -> dict[str, ModuleState]:
        """Every toggle row of the tenant (caller has bound the tenant: RLS applies)."""

        def load() -> dict[str, ModuleState]:
            rows = db.session.execute(
                select(TenantModule.module_key, TenantModule.enabled, TenantModule.features)
                .where(TenantModule.tenant_id == tenant_id))
            return {key: ModuleState(enabled, dict(features or {}))
                    for key, enabled, features in rows}

        return self.toggles.get_or_load(tenant_id, load)

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        """Forget a tenant (or all): called after changes made through this worker."""
        self.tenants.invalidate()
        self.toggles.invalidate(tenant_id)


def tenancy() -> Tenancy:
    return app_state().tenancy


def require_serving(tenant: TenantInfo) -> None:
    """403 for an inactive tenant, 503 (with the reason, also logged) for one not ready.

    The schema itself was checked before the tenant was looked up (core.pipeline runs
    ``require_schema_ready`` first), so an active tenant is served.
    """
    if tenant.status == "active":
        return
    if tenant.status == "inactive":
        raise Forbidden(f"tenant '{tenant.slug}' is inactive")
    reason = tenant.status_reason or f"tenant is {tenant.status}"
    log.warning("tenant not ready: tenant=%s status=%s reason=%s", tenant.slug, tenant.status,
                reason)
    raise ServiceUnavailable(f"tenant '{tenant.slug}' is not ready: {reason}")


def resolve_request_tenant() -> None:
    """before_request: set ``g.host`` and ``g.tenant`` from the Host header."""
    config = current_app.config
    g.host = classify_host(request.host, config["ROOT_DOMAIN"], config["PLATFORM_HOSTS"],
                           config["RESERVED_SUBDOMAINS"])
    g.tenant = None
    if g.host.kind == UNKNOWN:
        raise NotFound("no tenant or platform at this host")
    if g.host.kind == TENANT:
        tenant = tenancy().by_slug(g.host.slug)
        if tenant is None:
            raise NotFound("no tenant at this host")
        require_serving(tenant)
        g.tenant = tenant


def require_schema_ready(branch: str = "core") -> None:
    """503 while the schema (``core``) or a module's migrations are not at the code's heads;
    the message says what is missing and which command fixes it."""
    from core.readiness import schema_problems

    problem = schema_problems().get(branch)
    if problem:
        log.warning("not ready: %s", problem)
        raise ServiceUnavailable(f"not ready: {problem}")


def module_state(tenant_id: uuid.UUID, key: str) -> ModuleState:
    return tenancy().module_states(tenant_id).get(key, ModuleState(False, {}))


def feature(key: str, name: str, default: Any = None) -> Any:
    """A feature value of a module for the current tenant (toggle row, else module default)."""
    state = module_state(g.tenant.id, key)
    if name in state.features:
        return state.features[name]
    module = app_state().registry.module(key)
    return module.features.get(name, default) if module else default


def init_tenancy(app: Flask) -> None:
    app_state(app).tenancy = Tenancy(app.config["TENANT_CACHE_TTL"])
