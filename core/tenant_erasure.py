"""Erasing a tenant (issue 17, item 2): every row of it, after a grace period, leaving a
tombstone with the receipt.

``plan_erasure`` is the dry run: every tenant table with the tenant's row count. It refuses
(409) unless the tenant has been ``inactive`` for TENANT_ERASURE_GRACE_DAYS (the time of its
last change, ``tenants.updated_at``: deactivate it, wait, then erase; a rename restarts the
wait). ``erase`` deletes exactly what the plan lists in one transaction, as the owner role,
children before parents, every statement naming the tenant; the transaction declares an
audited erasure (the append-only and audit-log triggers let only that through, migration
c0a1f000000a), deletes the ``tenants`` row last and writes a ``tenant_tombstones`` row (id,
slug, when, by whom, rows deleted per table) and a platform audit event, in the same
transaction. The slug is free again afterwards.

Export the tenant first (``tenantry tenants export``): an erasure cannot be undone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from core.audit import platform_audit_statement
from core.errors import Conflict, NotFound
from core.extensions import db
from core.models import TenantTombstone
from core.owner_session import owner_connection
from core.schema_migrations import deployment_tables


@dataclass
class ErasurePlan:
    tenant_id: uuid.UUID
    slug: str
    tables: dict[str, int] = field(default_factory=dict)  # deletion order

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def receipt(self) -> dict:
        return {"tenant_id": str(self.tenant_id), "slug": self.slug, "tables": self.tables,
                "rows": self.rows}


def _tenant_tables(app) -> list[str]:
    """Every tenant table of this deployment, children before parents."""
    deployed = deployment_tables(app)
    return [table.name for table in reversed(db.metadata.sorted_tables)
            if table.name in deployed and "tenant_id" in table.c]


def plan_erasure(app, connection: Connection, slug: str) -> ErasurePlan:
    row = connection.execute(text(
        "SELECT id, status, updated_at FROM tenants WHERE slug = :s"), {"s": slug}).first()
    if row is None:
        raise NotFound(f"no tenant '{slug}'")
    grace = timedelta(days=app.config["TENANT_ERASURE_GRACE_DAYS"])
    if row.status != "inactive":
        raise Conflict(f"tenant '{slug}' is {row.status}: deactivate it first, then erase it "
                       f"after {grace.days} day(s)")
    if row.updated_at > datetime.now(UTC) - grace:
        raise Conflict(f"tenant '{slug}' changed on {row.updated_at:%Y-%m-%d %H:%M} UTC; it may "
                       f"be erased {grace.days} day(s) after (TENANT_ERASURE_GRACE_DAYS)")
    plan = ErasurePlan(row.id, slug)
    for table in _tenant_tables(app):
        plan.tables[table] = connection.execute(text(
            f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),  # noqa: S608 - mapped names
            {"t": row.id}).scalar_one()
    return plan


def erase(app, slug: str, actor: str) -> ErasurePlan:
    """Delete what ``plan_erasure`` lists, and the tenant, in one owner-role transaction."""
    with owner_connection() as connection:
        plan = plan_erasure(app, connection, slug)
        for setting in ("tenantry.erasure", "tenantry.audit_retention_purge"):
            connection.execute(text("SELECT set_config(:s, 'on', true)"), {"s": setting})
        for table in plan.tables:
            connection.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"),  # noqa: S608
                               {"t": plan.tenant_id})
        connection.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": plan.tenant_id})
        connection.execute(insert(TenantTombstone).values(
            id=plan.tenant_id, slug=slug, erased_at=datetime.now(UTC), erased_by=actor,
            receipt=plan.receipt()))
        connection.execute(platform_audit_statement(
            "tenant.erased", target_type="tenant", target_id=plan.tenant_id,
            tenant_id=plan.tenant_id, after=plan.receipt()))
    return plan
