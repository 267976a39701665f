"""Rules over the whole schema (docs/architecture.md, "Tenancy and isolation"), checked on every
module's metadata and on the migrated database: composite keys, RLS everywhere, the fixed list of
SECURITY DEFINER functions, one head per branch, and models equal to migrations."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.engine import make_url

from core.app_state import app_state
from core.extensions import db
from core.schema_migrations import alembic_config, deployment_tables

# The only functions allowed to look across tenants (each one narrow, each one reviewed).
# tenantry_pos_fiscal_backlog: a count and the oldest time, no argument, no tenant (/metrics).
SECURITY_DEFINER_FUNCTIONS = {"tenantry_find_api_key", "tenantry_pos_fiscal_backlog"}
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid"


def tenant_tables(app):
    names = deployment_tables(app)
    return [t for name, t in db.metadata.tables.items() if name in names and "tenant_id" in t.c]


def test_there_are_tenant_tables_to_check(app):
    assert {"users", "api_keys", "tenant_modules"} <= {t.name for t in tenant_tables(app)}


def test_primary_keys_and_unique_constraints_start_with_tenant_id(app):
    problems = []
    for table in tenant_tables(app):
        for constraint in table.constraints:
            if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
                columns = [c.name for c in constraint.columns]
                if columns[0] != "tenant_id":
                    problems.append(f"{table.name}: {type(constraint).__name__} {columns}")
        for index in table.indexes:
            if isinstance(index, Index) and index.unique and \
                    next(c.name for c in index.columns) != "tenant_id":
                problems.append(f"{table.name}: unique index {index.name}")
    assert problems == []


def test_foreign_keys_between_tenant_tables_are_composite(app):
    tenant_names = {t.name for t in tenant_tables(app)}
    problems = []
    for table in tenant_tables(app):
        for fk in table.constraints:
            if not isinstance(fk, ForeignKeyConstraint):
                continue
            target = fk.referred_table.name
            if target in tenant_names:
                local = [c.name for c in fk.columns]
                remote = [e.column.name for e in fk.elements]
                if local[0] != "tenant_id" or remote[0] != "tenant_id":
                    problems.append(f"{table.name} -> {target}: {local} -> {remote}")
    assert problems == []


def test_tenant_id_defaults_to_the_transaction_setting(app):
    for table in tenant_tables(app):
        default = table.c.tenant_id.server_default
        assert default is not None, table.name
        assert "current_setting('app.tenant_id', true)" in str(default.arg.text), table.name


def test_every_tenant_table_has_forced_rls_and_one_fail_closed_policy(app, admin_connection):
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
    for table in tenant_tables(app):
        enabled, forced, policies, quals, checks = state[table.name]
        assert enabled and forced, table.name
        assert policies == ["tenant_isolation"], table.name
        assert TENANT_SETTING in quals[0] and TENANT_SETTING in checks[0], table.name


def test_database_primary_keys_start_with_tenant_id(app, admin_connection):
    rows = admin_connection.execute("""
        SELECT c.relname, a.attname FROM pg_constraint k
          JOIN pg_class c ON c.oid = k.conrelid
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
         WHERE k.contype IN ('p', 'u')""").fetchall()
    first_columns = {}
    for table, column in rows:
        first_columns.setdefault(table, set()).add(column)
    for table in tenant_tables(app):
        assert first_columns[table.name] == {"tenant_id"}, table.name


def test_platform_tables_are_not_tenant_tables(app):
    for name in ("tenants", "platform_users", "modules", "templates"):
        assert "tenant_id" not in db.metadata.tables[name].c


def test_security_definer_functions_are_the_fixed_list(app, admin_connection):
    rows = admin_connection.execute("""
        SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prosecdef AND n.nspname = 'public'""").fetchall()
    assert {row[0] for row in rows} == SECURITY_DEFINER_FUNCTIONS


def test_security_definer_functions_are_executable_by_the_app_role_only(
        app, database, admin_connection):
    for name in SECURITY_DEFINER_FUNCTIONS:
        acl = admin_connection.execute(
            "SELECT proacl::text FROM pg_proc WHERE proname = %s", (name,)).fetchone()[0]
        assert acl is not None
        grants = acl.strip("{}").split(",")
        assert not any(g.startswith("=") for g in grants), acl  # "=X/owner" = PUBLIC
        grantees = {g.split("=")[0] for g in grants}
        assert grantees == {make_url(database.owner_url).username,
                            make_url(database.app_url).username}, acl


def test_models_match_migrations(app):
    """What `flask db check` runs: autogenerate finds no difference."""
    with app.app_context():
        command.check(alembic_config())  # raises AutogenerateDiffsDetected on a difference
        assert app.test_cli_runner().invoke(args=["db", "check"]).exit_code == 0


def test_one_head_per_branch(app):
    """What `flask db heads` lists: exactly one head per branch, core and each plugin."""
    with app.app_context():
        script = ScriptDirectory.from_config(alembic_config())
        heads = [script.get_revision(head) for head in script.get_heads()]
        branches = ["core", *app_state(app).registry.migration_folders()]
        for branch in branches:
            assert sum(branch in head.branch_labels for head in heads) == 1, branch
        assert len(heads) == len(branches)
