"""Host -> tenant resolution, the tenant and toggle caches, and the request guard.

Resolution (runbook 000, "Tenancy"): strip the port, lower-case the host. A host in
PLATFORM_HOSTS is the platform. ``<label>.<ROOT_DOMAIN>`` names tenant ``<label>`` unless the
label is reserved. Unknown or reserved -> 404, inactive -> 403, not ready (provisioning,
failed, migrations behind) -> 503 with the reason; all before any view runs.

Caches that are long-lived and correct on every worker and node: a tenant's row, its module
toggles and what authentication reads of its users and API keys are cached per process
(TENANT_STATE_CACHE_SECONDS bounds how long an unused entry lives), and every request checks
them against the tenant's ``state_version``, which the database bumps on any change to the
tenant, its toggles (migration c0a1f000000f) or a user's or API key's credentials
(c0a1f0000010), and which the request reads in the very round trip that scopes its
transaction to the tenant (core.rls).
A change made through any worker is seen by the next request on every worker, at no extra
statement when nothing changed.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import select

from core.app_state import app_state
from core.cache import TTLCache
from core.errors import Forbidden, NotFound, ServiceUnavailable
from core.extensions import db
from core.models import TENANT_SLUG_PATTERN, Tenant, TenantModule
from core.rls import (
    begin_with_read,
    bind_tenant,
    bind_tenant_with_read,
    scoped_state_version,
)

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
    version: int = 0  # tenants.state_version when read


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
# TENANT_STATE_CACHE_SECONDS) then builds no ORM objects.
_TENANT_COLUMNS = (Tenant.id, Tenant.slug, Tenant.name, Tenant.status, Tenant.status_reason,
                   Tenant.state_version)


def _tenant_info(row) -> TenantInfo | None:
    if row is None:
        return None
    return TenantInfo(*row)  # _TENANT_COLUMNS' order


def _module_states(rows) -> dict[str, ModuleState]:
    return {key: ModuleState(enabled, dict(features or {})) for key, enabled, features in rows}


# A cache miss in a request costs no round trip of its own: the tenant's row is read in the
# message that begins the request's transaction, its toggles in the one that scopes it to the
# tenant (core.rls ``begin_with_read``, ``bind_tenant_with_read``). Those messages use the
# simple query protocol, without parameters: the slug is one that matched the tenants' slug
# rule (letters, digits, hyphens), the id a re-rendered ``uuid.UUID``.
# The texts name the same columns, in the same order, as the ORM reads (one list each; the
# names come from the models, the values are filled in as said above).
_SLUG = re.compile(TENANT_SLUG_PATTERN)
_TOGGLE_COLUMNS = (TenantModule.module_key, TenantModule.enabled, TenantModule.features)
_READ_BY_SLUG = (f"SELECT {', '.join(c.key for c in _TENANT_COLUMNS)} FROM tenants "  # noqa: S608
                 "WHERE slug = '{slug}'")
_READ_TOGGLES = (f"SELECT {', '.join(c.key for c in _TOGGLE_COLUMNS)} "  # noqa: S608
                 "FROM tenant_modules WHERE tenant_id = '{tenant_id}'")


_CHANGED = "tenancy_changed_in_request"


class Tenancy:
    """Per-app caches of tenants and their module toggles, checked against state_version."""

    def __init__(self, ttl: float) -> None:
        self.tenants = TTLCache(ttl)
        self.toggles = TTLCache(ttl)
        self.users = TTLCache(ttl)
        self.api_keys = TTLCache(ttl)
        self.plans = TTLCache(ttl)
        self.webhooks = TTLCache(ttl)

    @staticmethod
    def _get(cache: TTLCache, key, load):
        # A request that changed a tenant or its toggles reads them afresh and caches nothing:
        # its transaction may still roll back, and the state_version it was confirmed at is
        # the one from before its change.
        if has_request_context() and g.get(_CHANGED):
            return load()
        return cache.get_or_load(key, load)

    def by_slug(self, slug: str) -> TenantInfo | None:
        return self._get(self.tenants, ("slug", slug), lambda: _tenant_info(self._read_slug(slug)))

    @staticmethod
    def _read_slug(slug: str):
        if not _SLUG.match(slug):
            return None  # no tenant can have it (the tenants.slug check)
        if has_request_context() and not db.session().in_transaction():
            rows = begin_with_read(_READ_BY_SLUG.format(slug=slug))  # the request's first message
            return rows[0] if rows else None
        return db.session.execute(select(*_TENANT_COLUMNS).where(Tenant.slug == slug)).first()

    def bind(self, tenant: TenantInfo):
        """Bind the request's transaction to ``tenant`` (core.rls ``bind_tenant``); when its
        toggles are not cached under its version, they are read in the message that scopes
        the transaction. Returns the context token. (With the cache off, TTL 0, nothing
        would keep them: they are read where they are used.)"""
        if self.toggles.ttl <= 0 or self.toggles.holds((tenant.id, tenant.version)):
            return bind_tenant(tenant.id)
        read = _READ_TOGGLES.format(tenant_id=uuid.UUID(str(tenant.id)))
        token, rows = bind_tenant_with_read(tenant.id, read)
        if rows is None and not db.session().in_transaction():
            rows = begin_with_read(read)  # the transaction begins scoped, the toggles with it
        version = scoped_state_version(tenant.id)
        if rows is not None and version is not None:
            self.toggles.put((tenant.id, version), _module_states(rows))
        return token

    def by_id(self, tenant_id: uuid.UUID) -> TenantInfo | None:
        return self._get(self.tenants, ("id", tenant_id), lambda: _tenant_info(
            db.session.execute(select(*_TENANT_COLUMNS).where(Tenant.id == tenant_id)).first()))

    def module_states(self, tenant_id: uuid.UUID) -> dict[str, ModuleState]:
        """Every toggle row of the tenant (caller has bound the tenant: RLS applies). Cached
        under the tenant's confirmed state_version (the request's tenant); read afresh when
        that is not known (commands, another tenant)."""

        def load() -> dict[str, ModuleState]:
            return _module_states(db.session.execute(
                select(*_TOGGLE_COLUMNS).where(TenantModule.tenant_id == tenant_id)))

        current = g.get("tenant") if has_request_context() else None
        if current is None or current.id != tenant_id:
            return load()
        return self._get(self.toggles, (tenant_id, current.version), load)

    def user_state(self, tenant_id: uuid.UUID, user_id: uuid.UUID, load):
        """A tenant user's row as authentication reads it (``load()``), cached under the
        state_version this request's transaction read as it was scoped to ``tenant_id``: every
        change of a user's role, activity, token version or e-mail, and every deletion, bumps
        it (migration c0a1f0000010), so the next request on any worker reads the row again.
        Read afresh when that version is not known."""
        return self._versioned(self.users, tenant_id, user_id, load)

    def api_key_state(self, tenant_id: uuid.UUID, key_hash: bytes, load):
        """The live API key of this tenant with this SHA-256 (``load()``; None is not cached:
        a key created a moment ago must work at once), cached like ``user_state``: revoking
        a key, changing its role, label or expiry, or deleting it bumps the version. The
        caller still checks the cached expiry against the clock."""
        return self._versioned(self.api_keys, tenant_id, key_hash, load, keep_none=False)

    def rate_limit_plan(self, tenant_id: uuid.UUID, load):
        """The tenant's rate-limit plan (``load()``: the ``tenantry_rate_limit_plan`` hook),
        cached like ``user_state``: the plugin answering it bumps the version when the answer
        changes (billing: migration bi0a00000003's triggers on ``billing_accounts``)."""
        return self._versioned(self.plans, tenant_id, "plan", load)

    def webhook_endpoints_enabled(self, tenant_id: uuid.UUID, load) -> bool:
        """Whether the tenant has an enabled webhook endpoint (``load()``), cached like
        ``user_state``: adding, removing, enabling or pausing one bumps the version (migration
        c0a1f0000011). True, without asking, when the version is not known (commands): the
        caller then queues, and the queueing statement finds the endpoints itself."""
        return self._versioned(self.webhooks, tenant_id, "webhooks", load,
                               unknown=lambda: True)

    def _versioned(self, cache: TTLCache, tenant_id: uuid.UUID, key, load, *,
                   keep_none: bool = True, unknown=None):
        """``load()`` cached under the request's confirmed state_version; with no version
        known, ``unknown()`` if given, else ``load()`` uncached."""
        version = scoped_state_version(tenant_id)
        if version is None:
            return (unknown or load)()
        entry = (tenant_id, version, key)
        value = self._get(cache, entry, load)
        if value is None and not keep_none:
            cache.invalidate(entry)
        return value

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        """Forget a tenant (or all): called after changes made through this worker (other
        workers see them through state_version)."""
        if has_request_context():
            g.setdefault(_CHANGED, True)
        self.tenants.invalidate()
        self.toggles.invalidate()
        self.users.invalidate()
        self.api_keys.invalidate()
        self.plans.invalidate()
        self.webhooks.invalidate()


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


def confirm_request_tenant() -> None:
    """The request's tenant, checked against the database: when the ``state_version`` read
    as the transaction was scoped to it (core.rls) differs from the cached one, the tenant is
    read again and served or refused on its current state (inactive: 403), and its toggles are
    read again under the new version. Call once the tenant is bound."""
    tenant = g.tenant
    version = scoped_state_version(tenant.id)
    if version is None or version == tenant.version:
        return
    tenancy().tenants.invalidate(("slug", tenant.slug))
    tenancy().tenants.invalidate(("id", tenant.id))
    fresh = tenancy().by_id(tenant.id)
    if fresh is None:
        raise NotFound("no tenant at this host")
    require_serving(fresh)
    g.tenant = fresh


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
    app_state(app).tenancy = Tenancy(app.config["TENANT_STATE_CACHE_SECONDS"])
