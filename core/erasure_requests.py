"""Erasure requests (issue 17, item 2, "platform API"): a platform admin asks for an inactive
tenant to be erased; the erasure happens in the operator's scheduled job.

Why not erase inside the request: an erasure deletes append-only rows through the audited
erasure path, which needs the table owner's role (core/tenant_erasure.py), and the web app
holds only the unprivileged app role — the property that keeps any SQL reachable through a
request from deleting posted documents. So the API records the request (who, when, and
``erase_after``: the end of the grace period, TENANT_ERASURE_GRACE_DAYS after the tenant's
last change) and ``tenantry tenants erase --scheduled`` (a daily CronJob) erases each tenant
whose time has come and that is still inactive, with the same dry-run rules and tombstone as a
by-hand erasure. Reactivating the tenant or withdrawing the request stops it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from core.audit import record_platform_audit
from core.errors import Conflict, NotFound
from core.extensions import db
from core.models import TenantErasureRequest
from core.tenant_lifecycle import get_tenant


def erase_after(updated_at: datetime) -> datetime:
    return updated_at + timedelta(days=current_app.config["TENANT_ERASURE_GRACE_DAYS"])


def get_request(tenant_id: uuid.UUID) -> TenantErasureRequest:
    get_tenant(tenant_id)  # 404 for an unknown tenant first
    found = db.session.get(TenantErasureRequest, tenant_id)
    if found is None:
        raise NotFound("no erasure is requested for this tenant")
    return found


def request_erasure(tenant_id: uuid.UUID, actor: str) -> tuple[TenantErasureRequest, bool]:
    """Record the request (the existing one if already asked); returns (request, created).
    409 unless the tenant is inactive."""
    tenant = get_tenant(tenant_id)
    if tenant.status != "inactive":
        raise Conflict(f"tenant '{tenant.slug}' is {tenant.status}: deactivate it first; it is "
                       "erased once it has been inactive for TENANT_ERASURE_GRACE_DAYS")
    existing = db.session.get(TenantErasureRequest, tenant_id)
    if existing is not None:
        return existing, False
    created = TenantErasureRequest(id=tenant_id, requested_by=actor,
                                   requested_at=datetime.now(UTC),
                                   erase_after=erase_after(tenant.updated_at))
    db.session.add(created)
    db.session.flush()
    record_platform_audit("tenant.erasure_requested", target_type="tenant", target_id=tenant_id,
                          tenant_id=tenant_id, after={"erase_after": created.erase_after})
    return created, True


def withdraw(tenant_id: uuid.UUID) -> None:
    found = get_request(tenant_id)
    db.session.delete(found)
    db.session.flush()
    record_platform_audit("tenant.erasure_withdrawn", target_type="tenant", target_id=tenant_id,
                          tenant_id=tenant_id, before={"erase_after": found.erase_after})


def due_requests() -> list[tuple[uuid.UUID, str]]:
    """(tenant id, slug) of requests whose ``erase_after`` has passed, oldest first."""
    from core.models import Tenant

    return [tuple(row) for row in db.session.execute(
        select(Tenant.id, Tenant.slug).join(TenantErasureRequest,
                                            TenantErasureRequest.id == Tenant.id)
        .where(TenantErasureRequest.erase_after <= datetime.now(UTC))
        .order_by(TenantErasureRequest.erase_after))]
