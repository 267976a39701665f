"""Runbook 000, "Troubleshooting migrations", on fresh databases: the POS migration creates
``cashiershiftstatus`` only if absent from its target schema, migrate-all twice is a no-op, a
type already in ``public`` is reused, a type with other labels stops the migration with an
explanation, and a migration targeting another schema creates and uses its own type even
though ``public`` has one.
"""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import plugins.pos
from core import create_app
from core.migration_kit import create_enum_if_absent
from core.provisioning import connect_admin
from core.schema_migrations import migrate_all
from core.testing.app import app_config

TYPE_LOCATIONS = """
    SELECT n.nspname, t.oid FROM pg_type t JOIN pg_namespace n ON t.typnamespace = n.oid
     WHERE t.typname = 'cashiershiftstatus' ORDER BY n.nspname
"""
COLUMN_TYPE = """
    SELECT tn.nspname, a.atttypid FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
     WHERE cn.nspname = %s AND c.relname = 'pos_shifts' AND a.attname = 'status'
"""
LABELS = """
    SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
     WHERE e.enumtypid = %s
"""


def _migrated_app(database):
    application = create_app(app_config(database))
    with application.app_context():
        changed = migrate_all(echo=lambda _line: None)
    return application, changed


def _admin(database):
    return connect_admin(database.admin_url)


def test_migrate_all_on_an_empty_database_then_again_is_a_no_op(fresh_database):
    application, changed = _migrated_app(fresh_database)
    assert "pos" in changed and "sales" in changed
    with application.app_context():
        assert migrate_all(echo=lambda _line: None) == []
    with _admin(fresh_database) as admin:
        [(schema, type_oid)] = admin.execute(TYPE_LOCATIONS).fetchall()
        assert schema == "public"
        assert admin.execute(COLUMN_TYPE, ("public",)).fetchone() == ("public", type_oid)
        assert admin.execute(LABELS, (type_oid,)).fetchone()[0] == ["open", "closed"]


def test_a_type_already_in_public_is_reused(fresh_database):
    """A partial earlier run left the type behind: the migration completes and uses it."""
    with _admin(fresh_database) as admin:
        admin.execute("CREATE TYPE public.cashiershiftstatus AS ENUM ('open', 'closed')")
        [(_, existing)] = admin.execute(TYPE_LOCATIONS).fetchall()
    application, changed = _migrated_app(fresh_database)
    assert "pos" in changed
    with application.app_context():
        assert migrate_all(echo=lambda _line: None) == []
    with _admin(fresh_database) as admin:
        assert admin.execute(TYPE_LOCATIONS).fetchall() == [("public", existing)]
        assert admin.execute(COLUMN_TYPE, ("public",)).fetchone() == ("public", existing)


def test_a_type_with_other_labels_stops_the_migration_with_an_explanation(fresh_database):
    with _admin(fresh_database) as admin:
        admin.execute("CREATE TYPE public.cashiershiftstatus AS ENUM ('OPEN', 'CLOSED')")
    application = create_app(app_config(fresh_database))
    with application.app_context(), pytest.raises(Exception, match="POS needs open and closed"):
        migrate_all(echo=lambda _line: None)


def _pos_revision():
    path = next((Path(plugins.pos.__file__).parent / "migrations").glob("*_po0a00000001_*.py"))
    spec = importlib.util.spec_from_file_location("pos_first_revision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migrating_another_schema_creates_and_uses_its_own_type(fresh_database):
    """The runbook's case: the type exists in ``public`` and the migration targets another
    schema (``tenantry``, first on the owner's search_path). The POS revision is run by Alembic
    against that schema; what it requires (tenants, products) stays in ``public``.

    Why not the whole app in ``tenantry``: core's SECURITY DEFINER API-key look-up is pinned
    to ``public`` (``SET search_path = pg_catalog, public``), so core itself only runs there.
    """
    _migrated_app(fresh_database)  # everything in public, the type included
    owner = make_url(fresh_database.owner_url)
    with _admin(fresh_database) as admin:
        admin.execute(f'CREATE SCHEMA tenantry AUTHORIZATION "{owner.username}"')
        [(_, public_type)] = admin.execute(TYPE_LOCATIONS).fetchall()
    engine = create_engine(owner.update_query_dict(
        {"options": "-csearch_path=tenantry,public"}).render_as_string(hide_password=False))
    revision = _pos_revision()
    try:
        with engine.begin() as connection:
            assert connection.execute(text("SELECT current_schema()")).scalar() == "tenantry"
            with Operations.context(MigrationContext.configure(connection)):
                revision.upgrade()
                create_enum_if_absent("cashiershiftstatus", ("open", "closed"))  # again: no-op
    finally:
        engine.dispose()

    with _admin(fresh_database) as admin:
        locations = dict(admin.execute(TYPE_LOCATIONS).fetchall())
        assert set(locations) == {"public", "tenantry"}
        assert locations["public"] == public_type
        assert admin.execute(COLUMN_TYPE, ("tenantry",)).fetchone() == (
            "tenantry", locations["tenantry"])
        assert admin.execute(COLUMN_TYPE, ("public",)).fetchone() == ("public", public_type)
        # The new tables work, with their rules: one open shift per register.
        tenant_id = uuid.uuid4()
        admin.execute("INSERT INTO public.tenants (id, slug, name) VALUES (%s, %s, 'S')",
                      (tenant_id, f"s{tenant_id.hex[:8]}"))
        register_id = uuid.uuid4()
        admin.execute("INSERT INTO tenantry.pos_registers (tenant_id, id, code, name) "
                      "VALUES (%s, %s, 'R', 'R')", (tenant_id, register_id))
        insert_shift = ("INSERT INTO tenantry.pos_shifts (tenant_id, id, register_id, "
                        "opening_float, opened_by) VALUES (%s, %s, %s, 0, 'test')")
        admin.execute(insert_shift, (tenant_id, uuid.uuid4(), register_id))
        with pytest.raises(psycopg.errors.UniqueViolation):
            admin.execute(insert_shift, (tenant_id, uuid.uuid4(), register_id))
        forced = admin.execute(
            "SELECT relforcerowsecurity FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'tenantry' AND relname = 'pos_receipts'"
        ).fetchone()
        assert forced == (True,)
