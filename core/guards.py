"""Blueprint guards: what a registered blueprint needs before its views run.

``core.routing`` records each blueprint's guard when it registers it; the request pipeline
(``core.pipeline``) calls ``guard_blueprint`` once the host's tenant and the caller's identity
are known: platform blueprints only on platform hosts (404), tenant blueprints only with a
tenant (404, or 401 on a platform host without an API key), a module's blueprint only with
credentials (401), the module enabled for the tenant (403) and its migrations applied (503).
"""

from __future__ import annotations

from flask import g, request

from core.app_state import app_state
from core.blueprint import view_auth_check
from core.errors import Forbidden, NotFound, Unauthorized
from core.tenancy import PLATFORM, module_state, require_schema_ready

GUARD_PLATFORM = "platform"  # PLATFORM_HOSTS only (404 elsewhere)
GUARD_TENANT = "tenant"  # a tenant from the host or an API key (404 otherwise)
GUARD_NONE = "none"


def guard_blueprint() -> None:
    """Refuse the request unless the blueprint's guard is satisfied (404/401/403/503)."""
    guards = app_state().guards
    guard = guards.get(request.blueprint or "", GUARD_NONE)
    if guard == GUARD_NONE:
        return
    if guard == GUARD_PLATFORM:
        if g.host.kind != PLATFORM:
            raise NotFound("not found")
        return
    if g.tenant is None:
        if g.host.kind == PLATFORM and g.identity is None and view_auth_check() is not None:
            # ClinCore clients call the platform host with X-API-Key naming their tenant.
            raise Unauthorized("credentials required: send X-API-Key (or use the tenant's host)")
        raise NotFound("this API is served on a tenant's host, or with an API key")
    if guard == GUARD_TENANT:
        return
    # A module's blueprint: credentials first (nothing about the tenant leaks without them),
    # then the module toggle.
    if g.identity is None:
        raise Unauthorized("credentials required")
    if not module_state(g.tenant.id, guard).enabled:
        raise Forbidden(f"module '{guard}' is not enabled for this tenant")
    require_schema_ready(guard)
