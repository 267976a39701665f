"""SQL building blocks for migrations: tenant RLS, append-only tables, enums created if absent.

Migrations never import app code, because app code changes and old revisions must replay the
same way forever. This module is the one exception, and it is frozen for that reason: it imports
nothing from Tenantry, a function's behaviour never changes once released, and new behaviour
gets a new function. Core, built-in and third-party migrations share it instead of copying SQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
POLICY_NAME = "tenant_isolation"


def tenant_id_column() -> sa.Column:
    """The ``tenant_id`` column every tenant-owned table starts with (default from the
    transaction's tenant setting, so inserts cannot name another tenant by omission)."""
    return sa.Column("tenant_id", pg.UUID(as_uuid=True), nullable=False,
                     server_default=sa.text(TENANT_SETTING))


def enable_tenant_rls(table: str) -> None:
    """ENABLE + FORCE row level security with the one fail-closed tenant policy (idempotent)."""
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"')
    op.execute(
        f'CREATE POLICY {POLICY_NAME} ON "{table}" '
        f"USING (tenant_id = {TENANT_SETTING}) WITH CHECK (tenant_id = {TENANT_SETTING})")


def disable_tenant_rls(table: str) -> None:
    op.execute(f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


# Shared by every append-only table and (re)defined by every make_append_only call, in whatever
# order branches migrate: so it is always the latest definition, the one core migration
# c0a1f000000a introduced (an audited erasure's DELETE passes, nothing else). Defining the old
# strict body here would undo that whenever a plugin's first revision runs after core's.
_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION tenantry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tenantry.erasure', true) = 'on'
       AND pg_has_role(current_user, (SELECT c.relowner FROM pg_class c
                                       WHERE c.oid = TG_RELID), 'USAGE') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'table % is append-only: % is not allowed; post a compensating row',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def make_append_only(table: str) -> None:
    """No UPDATE/DELETE/TRUNCATE: revoked from every grantee, refused by triggers for everyone
    (the owner and superusers included)."""
    op.execute(_REFUSE_FUNCTION)
    op.execute(f"""
        DO $$
        DECLARE grantee_name text;
        BEGIN
            FOR grantee_name IN
                SELECT DISTINCT grantee FROM information_schema.role_table_grants
                 WHERE table_schema = current_schema() AND table_name = '{table}'
                   AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
                   AND grantee <> current_user
            LOOP
                EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %I',
                               '{table}', grantee_name);
            END LOOP;
        END
        $$""")
    op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')
    op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
               "FOR EACH ROW EXECUTE FUNCTION tenantry_refuse_change()")
    op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{table}"')
    op.execute(f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
               "FOR EACH STATEMENT EXECUTE FUNCTION tenantry_refuse_change()")


def create_enum_if_absent(name: str, values: tuple[str, ...]) -> None:
    """Create an enum type in the schema the migration targets (``current_schema()``) unless a
    type of that name already exists *there*; one of the same name in another schema (e.g.
    ``public`` when migrating a different schema) does not count."""
    # Each label is an SQL literal inside the string literal given to format(): its quotes are
    # doubled twice, and a % would be read by format() as a placeholder.
    labels = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    labels = labels.replace("'", "''").replace("%", "%%")
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (
                SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE t.typname = '{name}' AND n.nspname = current_schema()
            ) THEN
                EXECUTE format('CREATE TYPE %I.%I AS ENUM ({labels})', current_schema(), '{name}');
            END IF;
        END
        $$""")


def drop_enum_if_present(name: str) -> None:
    op.execute(f"""
        DO $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE t.typname = '{name}' AND n.nspname = current_schema()
            ) THEN
                EXECUTE format('DROP TYPE %I.%I', current_schema(), '{name}');
            END IF;
        END
        $$""")


def _for_each_app_role(statement: str) -> None:
    """Run ``statement`` (a ``format`` template whose ``%I`` is the role) for every app role:
    the roles that may read the ``tenants`` table without owning it (migrations do not know
    the app role's name; its grants come from setup-db's default privileges)."""
    op.execute(f"""
        DO $$
        DECLARE role_name text;
        BEGIN
            FOR role_name IN
                SELECT r.rolname FROM pg_roles r
                 WHERE r.rolname <> current_user AND NOT r.rolsuper
                   AND r.rolname NOT LIKE 'pg\\_%'
                   AND has_table_privilege(r.oid, current_schema() || '.tenants', 'SELECT')
            LOOP
                EXECUTE format('{statement}', role_name);
            END LOOP;
        END
        $$""")


def grant_execute_to_app_roles(function_signature: str) -> None:
    """Let the app role call a SECURITY DEFINER look-up function, and nobody else."""
    op.execute(f"REVOKE ALL ON FUNCTION {function_signature} FROM PUBLIC")
    _for_each_app_role(f"GRANT EXECUTE ON FUNCTION {function_signature} TO %I")


def grant_to_app_roles(privileges: str, table: str) -> None:
    """Give every app role ``privileges`` on ``table`` (e.g. ``"UPDATE (state_version)"``)."""
    _for_each_app_role(f"GRANT {privileges} ON {table} TO %I")


def revoke_from_app_roles(table: str, privileges: str) -> None:
    """Take ``privileges`` (e.g. ``"UPDATE, DELETE, TRUNCATE"``) on ``table`` from every app
    role: setup-db's default privileges grant them all four on every new table."""
    _for_each_app_role(f"REVOKE {privileges} ON {table} FROM %I")


def _is_tenant_reference(constraint: sa.ForeignKeyConstraint) -> bool:
    """A composite foreign key on ``tenant_id`` to another tenant table."""
    return "tenant_id" in constraint.column_keys and len(constraint.column_keys) > 1


def create_tenant_table(name: str, *elements, distribution_anchor: str = "users") -> None:
    """``op.create_table`` for a tenant table that also works on a distributed schema (Citus,
    docs/scale-out.md): the table is created without its foreign keys to other tenant tables,
    distributed by ``tenant_id`` next to ``distribution_anchor`` when the database is a Citus
    coordinator, then given those foreign keys and the tenant's row level security. On plain
    PostgreSQL the result is the same table as ``op.create_table`` plus ``enable_tenant_rls``.
    The first element must be ``tenant_id_column()``."""
    def deferred(element) -> bool:
        return isinstance(element, sa.ForeignKeyConstraint) and _is_tenant_reference(element)

    later = [element for element in elements if deferred(element)]
    op.create_table(name, *[element for element in elements if not deferred(element)])
    op.execute(f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
                PERFORM create_distributed_table('{name}', 'tenant_id',
                                                 colocate_with => '{distribution_anchor}');
            END IF;
        END
        $$""")
    for constraint in later:
        targets = [element._colspec.split(".") for element in constraint.elements]
        op.create_foreign_key(constraint.name, name, targets[0][0], list(constraint.column_keys),
                              [column for _table, column in targets],
                              ondelete=constraint.ondelete)
    enable_tenant_rls(name)


ZERO_SCOPE = "'00000000-0000-0000-0000-000000000000'::uuid"


def chain_documents(chain: str, table: str, content_sql: str, *, scope_column: str | None = None,
                    update_of: str | None = None, when: str | None = None,
                    existing: str = "true", order_by: str = "created_at, id") -> None:
    """Put every row of ``table`` in the hash chain ``chain`` (core migration c0a1f0000008).

    ``content_sql``: a SELECT returning one jsonb, the document's canonical content, from the
    parameters ``p_tenant`` and ``p_id`` (the row's tenant and id); include the children a
    document is made of (lines, payments), ordered. It becomes
    ``tenantry_ledger_content_<chain>(p_tenant, p_id)``, which runs in UTC so times hash alike
    everywhere. ``scope_column``: one chain per value of that column (receipts: per register);
    None: one chain per tenant. A row is linked at the commit of the transaction that inserts
    it (a deferred constraint trigger: its children are written by then), or, with
    ``update_of`` (a column) and ``when`` (a trigger condition on OLD/NEW), when it is updated
    that way (a shift: when it closes). Rows present now that match ``existing`` (a condition
    on the row, alias ``d``) are linked here, oldest first (``order_by``, columns of ``d``).
    """
    op.execute(f"""
        CREATE OR REPLACE FUNCTION tenantry_ledger_content_{chain}(p_tenant uuid, p_id uuid)
        RETURNS text LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$
            SELECT ({content_sql})::text
        $$""")
    grant_execute_to_app_roles(f"tenantry_ledger_content_{chain}(uuid, uuid)")
    events = "INSERT" if update_of is None else f"UPDATE OF {update_of}"
    condition = f"WHEN ({when})" if when else ""
    op.execute(f"""
        CREATE CONSTRAINT TRIGGER {table}_ledger AFTER {events} ON {table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {condition}
        EXECUTE FUNCTION tenantry_ledger_append('{chain}', '{scope_column or ''}')""")
    scope = f"d.{scope_column}" if scope_column else ZERO_SCOPE
    op.execute(f"""
        DO $$
        DECLARE r record;
        BEGIN
            FOR r IN SELECT d.tenant_id, {scope} AS scope, d.id FROM {table} d
                      WHERE {existing} AND NOT EXISTS (
                            SELECT 1 FROM ledger_entries e WHERE e.tenant_id = d.tenant_id
                               AND e.chain = '{chain}' AND e.document_id = d.id)
                      ORDER BY d.tenant_id, 2, {', '.join('d.' + c.strip()
                                                         for c in order_by.split(','))}
            LOOP
                PERFORM tenantry_ledger_link('{chain}', r.tenant_id, r.scope, r.id);
            END LOOP;
        END
        $$""")


def unchain_documents(chain: str, table: str) -> None:
    """Undo ``chain_documents`` (the entries stay: the ledger is append-only)."""
    op.execute(f"DROP TRIGGER IF EXISTS {table}_ledger ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS tenantry_ledger_content_{chain}(uuid, uuid)")
