"""Purging one module's data for one tenant, after a dry run (issue 17, item 1).

``plan_purge`` is the dry run: every table of the module with the tenant's row count, and the
ledger entries of the module's hash chains. It refuses (409) while the module is enabled for
the tenant, or while a module that requires it is enabled or still has rows of the tenant
(their rows may point at this module's: purge those first), or while another module's soft
reference (declared with ``tenantry_module_data``, core/module_data.py) still points at this
module's rows for the tenant. ``purge`` deletes exactly what the
plan lists, in one transaction, as the owner role (the app role cannot delete posted
documents), children before parents, every statement naming the tenant; the transaction
declares an audited erasure (``tenantry.erasure``, migration c0a1f000000a) so the append-only
triggers let those deletes through, and it records the receipt — what was deleted, table by
table — in the tenant's and the platform's audit logs, in the same transaction. The module's
toggle stays (disabled): enabling it again starts it empty.

Export the data first (``tenantry tenants export --module``): a purge cannot be undone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from core.app_state import app_state
from core.audit import audit_statement, platform_audit_statement
from core.errors import Conflict, NotFound
from core.extensions import db
from core.module_data import DataRules, data_rules
from core.owner_session import owner_connection


@dataclass
class PurgePlan:
    tenant_id: uuid.UUID
    module: str
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows, deletion order
    ledger_entries: dict[str, int] = field(default_factory=dict)  # chain -> entries

    @property
    def rows(self) -> int:
        return sum(self.tables.values()) + sum(self.ledger_entries.values())

    def receipt(self) -> dict:
        return {"module": self.module, "tables": self.tables,
                "ledger_entries": self.ledger_entries, "rows": self.rows}


def _count(connection: Connection, table: str, tenant_id: uuid.UUID) -> int:
    return connection.execute(text(
        f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),  # noqa: S608 - mapped names
        {"t": tenant_id}).scalar_one()


def _enabled(connection: Connection, tenant_id: uuid.UUID, key: str) -> bool:
    return bool(connection.execute(text(
        "SELECT enabled FROM tenant_modules WHERE tenant_id = :t AND module_key = :k"),
        {"t": tenant_id, "k": key}).scalar())


def _deletion_order(rules: DataRules, key: str) -> list[str]:
    """The module's tenant tables, children first (the metadata's dependency order, reversed)."""
    mine = set(rules.tables_of(key))
    return [table.name for table in reversed(db.metadata.sorted_tables) if table.name in mine]


def _chains(app, key: str) -> list[str]:
    module = app_state(app).registry.module(key)
    return [chain.name for chain in getattr(module, "ledger_chains", ())]


def plan_purge(app, connection: Connection, tenant_id: uuid.UUID, key: str) -> PurgePlan:
    """The dry run (see the module docstring); ``connection`` sees every tenant (owner)."""
    registry = app_state(app).registry
    if registry.module(key) is None:
        raise NotFound(f"no module '{key}'")
    if _enabled(connection, tenant_id, key):
        raise Conflict(f"module '{key}' is enabled for this tenant: disable it first "
                       "(its data is kept until purged)")
    rules = data_rules(app)
    for dependent in sorted(m.key for m in registry.modules.values() if key in m.requires):
        if _enabled(connection, tenant_id, dependent):
            raise Conflict(f"module '{dependent}' requires '{key}' and is enabled")
        if any(_count(connection, table, tenant_id) for table in rules.tables_of(dependent)):
            raise Conflict(f"module '{dependent}' requires '{key}' and still has data of this "
                           f"tenant: purge '{dependent}' first")
    for referrer, table, column in rules.references.get(key, ()):
        held = connection.execute(text(
            f"SELECT count(*) FROM {table} "  # noqa: S608 - names from the models' metadata
            f"WHERE tenant_id = :t AND {column} IS NOT NULL"), {"t": tenant_id}).scalar_one()
        if held:
            raise Conflict(f"module '{referrer}' still refers to '{key}' data of this tenant "
                           f"({table}.{column}: {held} row(s)): clear those references or "
                           f"purge '{referrer}' first")
    plan = PurgePlan(tenant_id, key)
    for table in _deletion_order(rules, key):
        plan.tables[table] = _count(connection, table, tenant_id)
    for chain in _chains(app, key):
        plan.ledger_entries[chain] = connection.execute(text(
            "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t AND chain = :c"),
            {"t": tenant_id, "c": chain}).scalar_one()
    return plan


def purge(app, tenant_id: uuid.UUID, key: str) -> PurgePlan:
    """Delete what ``plan_purge`` lists, in one owner-role transaction; returns the plan."""
    with owner_connection() as connection:
        plan = plan_purge(app, connection, tenant_id, key)
        connection.execute(text("SELECT set_config('tenantry.erasure', 'on', true)"))
        for table in plan.tables:
            connection.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"),  # noqa: S608
                               {"t": tenant_id})
        for chain in plan.ledger_entries:
            connection.execute(text("DELETE FROM ledger_entries WHERE tenant_id = :t "
                                    "AND chain = :c"), {"t": tenant_id, "c": chain})
        _record(connection, plan)
    return plan


def _record(connection: Connection, plan: PurgePlan) -> None:
    """The purge receipt, in both audit logs, in the purge's own transaction."""
    connection.execute(audit_statement(plan.tenant_id, "module.purged", target_type="module",
                                       target_id=plan.module, after=plan.receipt()))
    connection.execute(platform_audit_statement(
        "tenant.module_purged", target_type="module", target_id=plan.module,
        tenant_id=plan.tenant_id, after=plan.receipt()))
