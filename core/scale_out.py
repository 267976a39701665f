"""Scale-out on Citus (docs/scale-out.md): the rules a schema must keep to be distributed by
tenant, and the plan that distributes it.

``citus_problems(connection)`` checks the migrated schema on plain PostgreSQL (CI runs it): every
tenant table's primary key and unique constraints include ``tenant_id`` (the distribution
column); foreign keys between tenant tables include ``tenant_id`` on both sides (colocated); no
platform table refers to a tenant table (a reference table cannot); no trigger function branches
on its table's name (on a worker it is the shard's, ``sales_orders_102345``).

``distribution_plan(connection)`` is the SQL that makes the platform tables reference tables
and every tenant table a distributed table on ``tenant_id`` in one colocation group, in a safe
order: tenant-to-tenant foreign keys are dropped first and re-created after (Citus wants both
sides distributed), and triggers are allowed for the session (``citus.enable_unsafe_triggers``:
the guards are row triggers that touch only their own row and same-tenant rows). Tables already
distributed are skipped, so running it again does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LOCAL_TABLES = frozenset({"alembic_version"})  # stays on the coordinator: migrations only
_BRANCHES_ON_NAME = re.compile(r"TG_(?:TABLE_NAME|RELNAME)\s*(?:=|<>|!=|\bIN\b)", re.IGNORECASE)

_TABLES = """
    SELECT c.relname,
           EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                    AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS is_tenant
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
     ORDER BY c.relname
"""
_FOREIGN_KEYS = """
    SELECT k.conname, src.relname, dst.relname, pg_get_constraintdef(k.oid),
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                  ORDER BY u.i),
           ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                   JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                  ORDER BY u.i)
      FROM pg_constraint k
      JOIN pg_class src ON src.oid = k.conrelid
      JOIN pg_class dst ON dst.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = src.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema()
     ORDER BY src.relname, k.conname
"""
_UNIQUES = """
    SELECT c.relname, k.conname,
           ARRAY(SELECT a.attname FROM unnest(k.conkey) u(n)
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n)
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype IN ('p', 'u') AND n.nspname = current_schema()
"""
_TRIGGER_FUNCTIONS = """
    SELECT DISTINCT p.proname, p.prosrc
      FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
      JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT t.tgisinternal AND n.nspname = current_schema()
"""


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    target: str
    definition: str
    columns: tuple[str, ...]
    target_columns: tuple[str, ...]


@dataclass
class Schema:
    tenant_tables: list[str] = field(default_factory=list)
    platform_tables: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)


def read_schema(connection) -> Schema:
    """The tables and foreign keys of the current schema (a psycopg connection)."""
    schema = Schema()
    for name, is_tenant in connection.execute(_TABLES).fetchall():
        if name in LOCAL_TABLES:
            continue
        (schema.tenant_tables if is_tenant else schema.platform_tables).append(name)
    schema.foreign_keys = [ForeignKey(row[0], row[1], row[2], row[3], tuple(row[4]),
                                      tuple(row[5]))
                           for row in connection.execute(_FOREIGN_KEYS).fetchall()]
    return schema


def citus_problems(connection) -> list[str]:
    """Every rule of a distributable schema the current schema breaks (empty: none)."""
    schema = read_schema(connection)
    tenant = set(schema.tenant_tables)
    problems = []
    for table, name, columns in connection.execute(_UNIQUES).fetchall():
        if table in tenant and "tenant_id" not in columns:
            problems.append(f"{table}: {name} {list(columns)} does not include tenant_id")
    for key in schema.foreign_keys:
        if key.table in tenant and key.target in tenant:
            position = key.columns.index("tenant_id") if "tenant_id" in key.columns else None
            if position is None or key.target_columns[position] != "tenant_id":
                problems.append(f"{key.table} -> {key.target}: {key.name} is not on tenant_id "
                                "(tenant tables must be colocated)")
        elif key.table not in tenant and key.target in tenant:
            problems.append(f"{key.table} -> {key.target}: {key.name}: a platform (reference) "
                            "table cannot refer to a tenant (distributed) table")
    for function, source in connection.execute(_TRIGGER_FUNCTIONS).fetchall():
        if _BRANCHES_ON_NAME.search(source or ""):
            problems.append(f"trigger function {function} branches on TG_TABLE_NAME, which is "
                            "a shard's name on a worker: pass the table's role as an argument")
    return problems


def _is_citus(connection) -> bool:
    return connection.execute(
        "SELECT count(*) FROM pg_extension WHERE extname = 'citus'").fetchone()[0] == 1


def _already_distributed(connection) -> set[str]:
    if not _is_citus(connection):
        return set()
    rows = connection.execute("SELECT logicalrelid::regclass::text FROM pg_dist_partition")
    return {name.split(".")[-1].strip('"') for (name,) in rows.fetchall()}


def _reference_order(schema: Schema) -> list[str]:
    """Platform tables, each after the platform tables it refers to."""
    platform = set(schema.platform_tables)
    needs = {name: {key.target for key in schema.foreign_keys
                    if key.table == name and key.target in platform and key.target != name}
             for name in schema.platform_tables}
    ordered: list[str] = []
    while needs:
        ready = sorted(name for name, wanted in needs.items() if wanted <= set(ordered))
        if not ready:  # a cycle between platform tables: Citus takes them in any order
            ready = sorted(needs)
        for name in ready:
            ordered.append(name)
            needs.pop(name)
    return ordered


def distribution_plan(connection, app_role: str | None = None) -> list[str]:
    """The statements that distribute the schema (none for what is already distributed)."""
    schema = read_schema(connection)
    done = _already_distributed(connection)
    tenant = set(schema.tenant_tables)
    plan = ["SET citus.enable_unsafe_triggers TO on"]
    if app_role:
        plan.append(f'ALTER ROLE "{app_role}" SET citus.propagate_set_commands TO \'local\'')
    plan += [f"SELECT create_reference_table('{name}')" for name in _reference_order(schema)
             if name not in done]
    # users first: the anchor of the colocation group (migration_kit.create_tenant_table
    # distributes new tables next to it).
    pending = sorted((name for name in schema.tenant_tables if name not in done),
                     key=lambda name: (name != "users", name))
    between = [key for key in schema.foreign_keys
               if key.table in tenant and key.target in tenant
               and (key.table in pending or key.target in pending)]
    plan += [f'ALTER TABLE "{key.table}" DROP CONSTRAINT "{key.name}"' for key in between]
    anchor = next((name for name in schema.tenant_tables if name in done), None)
    for name in pending:
        colocate = "none" if anchor is None else anchor
        plan.append(f"SELECT create_distributed_table('{name}', 'tenant_id', "
                    f"colocate_with => '{colocate}')")
        anchor = anchor or name
    plan += [f'ALTER TABLE "{key.table}" ADD CONSTRAINT "{key.name}" {key.definition}'
             for key in between]
    return plan if len(plan) > (2 if app_role else 1) else []


class NotCitus(RuntimeError):
    """The database is not a Citus coordinator."""


def distribute(connection, app_role: str | None = None) -> list[str]:
    """Run the plan in one transaction on a Citus coordinator; returns what ran."""
    if not _is_citus(connection):
        raise NotCitus("the citus extension is not installed in this database: run this on a "
                       "Citus coordinator (CREATE EXTENSION citus), or use --dry-run")
    plan = distribution_plan(connection, app_role)
    with connection.transaction():
        for statement in plan:
            connection.execute(statement)
    return plan
