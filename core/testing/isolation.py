"""Isolation checks a plugin's test suite runs on its own tables and routes (and Tenantry's own
suite on every module's): each returns the list of problems found, empty when the rules hold,
so a test reads ``assert table_problems(...) == []`` and a failure names every offence.

Tables (docs/architecture.md, "Tenancy and isolation"): ``tenant_id`` first in the primary key
and every unique constraint, foreign keys between tenant tables composite on ``tenant_id``, a
server default from the transaction's tenant, ``ENABLE`` + ``FORCE`` row level security with the
one fail-closed policy, and — at run time, as the app role — no row visible and no row
writable without a tenant.

Routes: without credentials 401, with the module disabled 403, another tenant's id 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy import text as sql

from core.app_state import app_state
from core.extensions import db
from core.schema_migrations import deployment_tables

POLICY = "tenant_isolation"
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid"


def tenant_tables(app, names: Iterable[str] | None = None) -> list[Table]:
    """The app's tenant tables (those with ``tenant_id``), or only ``names``."""
    deployed = deployment_tables(app)
    wanted = set(names) if names is not None else None
    return [table for name, table in db.metadata.tables.items()
            if name in deployed and "tenant_id" in table.c
            and (wanted is None or name in wanted)]


def module_tables(app, module_key: str) -> list[Table]:
    """The tenant tables a module's migrations create (its metadata's tables named in its
    branch): every table whose model lives in the module's package."""
    plugin = app_state(app).registry.plugins[module_key]
    package = getattr(plugin, "__name__", type(plugin).__module__)
    mapped = {mapper.local_table.name for mapper in db.Model.registry.mappers
              if mapper.class_.__module__.startswith(package)}
    return tenant_tables(app, mapped)


def _shape_problems(tables: list[Table]) -> list[str]:
    # Foreign keys may point at another module's tenant table (e.g. catalog's products).
    names = {table.name for table in db.metadata.tables.values() if "tenant_id" in table.c}
    problems = []
    for table in tables:
        for constraint in table.constraints:
            if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
                columns = [column.name for column in constraint.columns]
                if columns and columns[0] != "tenant_id":
                    problems.append(f"{table.name}: {type(constraint).__name__} {columns} does "
                                    "not start with tenant_id")
            if isinstance(constraint, ForeignKeyConstraint) and \
                    constraint.referred_table.name in names:
                local = [column.name for column in constraint.columns]
                remote = [element.column.name for element in constraint.elements]
                if local[0] != "tenant_id" or remote[0] != "tenant_id":
                    problems.append(f"{table.name} -> {constraint.referred_table.name}: foreign "
                                    f"key {local} -> {remote} is not composite on tenant_id")
        for index in table.indexes:
            if isinstance(index, Index) and index.unique and \
                    next(column.name for column in index.columns) != "tenant_id":
                problems.append(f"{table.name}: unique index {index.name} does not start with "
                                "tenant_id")
        default = table.c.tenant_id.server_default
        if default is None or "current_setting('app.tenant_id', true)" not in str(
                default.arg.text):
            problems.append(f"{table.name}: tenant_id has no default from app.tenant_id "
                            "(use core.sdk.TenantMixin and core.sdk.migrations.tenant_id_column)")
    return problems


def _database_problems(tables: list[Table], admin_connection) -> list[str]:
    rows = admin_connection.execute("""
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               array_agg(p.polname ORDER BY p.polname) FILTER (WHERE p.polname IS NOT NULL),
               array_agg(pg_get_expr(p.polqual, p.polrelid)),
               array_agg(pg_get_expr(p.polwithcheck, p.polrelid))
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
          LEFT JOIN pg_policy p ON p.polrelid = c.oid
         WHERE c.relkind IN ('r', 'p')
         GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity""").fetchall()
    state = {row[0]: row[1:] for row in rows}
    problems = []
    for table in tables:
        if table.name not in state:
            problems.append(f"{table.name}: not in the database (run tenantry migrate-all)")
            continue
        enabled, forced, policies, quals, checks = state[table.name]
        if not (enabled and forced):
            problems.append(f"{table.name}: row level security is not enabled and forced "
                            "(core.sdk.migrations.enable_tenant_rls)")
        elif policies != [POLICY] or TENANT_SETTING not in (quals[0] or "") or \
                TENANT_SETTING not in (checks[0] or ""):
            problems.append(f"{table.name}: policies {policies} are not the one fail-closed "
                            f"{POLICY} policy")
    return problems


def _fail_closed_problems(app, tables: list[Table]) -> list[str]:
    """As the app role with no tenant set: nothing visible, nothing insertable."""
    problems = []
    with app.app_context():
        for table in tables:
            try:
                with db.engine.connect() as connection:
                    transaction = connection.begin()
                    connection.execute(sql("SELECT set_config('app.tenant_id', '', true)"))
                    count = connection.execute(
                        sql(f'SELECT count(*) FROM "{table.name}"')).scalar()
                    transaction.rollback()
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                problems.append(f"{table.name}: reading without a tenant failed: {exc}")
                continue
            if count:
                problems.append(f"{table.name}: {count} rows visible without a tenant")
    return problems


def table_problems(app, admin_connection, tables: list[Table]) -> list[str]:
    """Every isolation problem of ``tables`` (models, database, and fail closed at run time)."""
    if not tables:
        return ["no tenant tables given: the check would pass vacuously"]
    return [*_shape_problems(tables), *_database_problems(tables, admin_connection),
            *_fail_closed_problems(app, tables)]


def route_problems(path: str, *, anonymous, without_module=None, other_tenant=None,
                   method: str = "GET", **request) -> list[str]:
    """The guard answers of one route: ``anonymous`` (a client of the tenant's host without
    credentials) must get 401; ``without_module`` (a signed-in client of a tenant that has not
    enabled the module) 403; ``other_tenant`` (a signed-in client of another tenant, asking
    for an id of this one) 404. Clients are ``core.testing.HostClient``s."""
    problems = []
    for label, client, expected in (("without credentials", anonymous, 401),
                                    ("with the module disabled", without_module, 403),
                                    ("from another tenant", other_tenant, 404)):
        if client is None:
            continue
        status = client.open(method, path, **request).status_code
        if status != expected:
            problems.append(f"{method} {path} {label}: {status}, expected {expected}")
    return problems
