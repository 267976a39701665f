"""The audit log: who did what to a tenant's settings, people, keys, prices and stock, and what
the platform's operators did, when and from where.

``record_audit`` writes one ``audit_events`` row in the caller's transaction (the event and
the change it describes commit together, or neither), tenant-scoped by RLS; the platform's own
actions go to ``platform_audit_events`` (``record_platform_audit``). Both tables are
append-only (migration c0a1f0000009): the app role may insert and read, nobody may change a
row, and only ``tenantry audit purge`` (the owner role, for rows past AUDIT_RETENTION_DAYS)
deletes. Who: ``g.identity.actor`` (``user:<id>``, ``api_key:<id>``, ``platform_admin:<id>``),
or ``cli`` outside a request; from where: the client address and the request id.

Never a secret: values under keys that name one (password, token, secret, hash, api_key, ...)
are stored as ``"[redacted]"``, whatever a caller passes.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_request_context
from sqlalchemy import Insert, insert

from core.client_address import client_address
from core.extensions import db
from core.models import AuditEvent, PlatformAuditEvent
from core.rls import tenant_context

SECRET_KEY = re.compile(r"password|token|secret|hash|api_key|raw|credential", re.IGNORECASE)
REDACTED = "[redacted]"


def _plain(value: Any, key: str = "") -> Any:
    """JSON-ready, with secrets redacted by key name."""
    if key and SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): _plain(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _who() -> dict[str, Any]:
    if not has_request_context():
        return {"actor": "cli", "client_address": None, "request_id": None}
    identity = g.get("identity")
    return {"actor": identity.actor if identity is not None else "anonymous",
            "client_address": client_address(), "request_id": g.get("request_id")}


def _changes(before: dict | None, after: dict | None) -> dict | None:
    if before is None and after is None:
        return None
    return {"before": _plain(before or {}), "after": _plain(after or {})}


def audit_statement(tenant_id: uuid.UUID, action: str, *, target_type: str,
                    target_id: Any = None, before: dict | None = None,
                    after: dict | None = None) -> Insert:
    """The INSERT of one tenant event (for a caller on a connection of its own)."""
    return insert(AuditEvent).values(
        tenant_id=tenant_id, id=uuid.uuid4(), occurred_at=datetime.now(UTC), action=action,
        target_type=target_type, target_id=None if target_id is None else str(target_id),
        changes=_changes(before, after), **_who())


def platform_audit_statement(action: str, *, target_type: str, target_id: Any = None,
                             tenant_id: uuid.UUID | None = None, before: dict | None = None,
                             after: dict | None = None) -> Insert:
    """The INSERT of one platform event."""
    return insert(PlatformAuditEvent).values(
        id=uuid.uuid4(), occurred_at=datetime.now(UTC), action=action,
        target_type=target_type, target_id=None if target_id is None else str(target_id),
        about_tenant_id=tenant_id, changes=_changes(before, after), **_who())


def record_audit(tenant_id: uuid.UUID, action: str, *, target_type: str,
                 target_id: Any = None, before: dict | None = None,
                 after: dict | None = None) -> None:
    """One event of ``tenant_id``: ``action`` (``<area>.<verb>``, e.g. ``user.role_changed``)
    on ``target_type``/``target_id``, with what changed (secrets redacted)."""
    with tenant_context(tenant_id):  # also from a platform request, which has no tenant
        db.session.execute(audit_statement(tenant_id, action, target_type=target_type,
                                           target_id=target_id, before=before, after=after))


def record_platform_audit(action: str, *, target_type: str, target_id: Any = None,
                          tenant_id: uuid.UUID | None = None, before: dict | None = None,
                          after: dict | None = None) -> None:
    """One platform operator's action (tenants, the module registry, templates)."""
    db.session.execute(platform_audit_statement(
        action, target_type=target_type, target_id=target_id, tenant_id=tenant_id,
        before=before, after=after))


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """The keys whose values differ, as (before, after) dicts."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}
