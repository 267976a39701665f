"""Scale-out on Citus, checked on plain PostgreSQL (docs/scale-out.md): the migrated schema keeps
Citus' rules, the distribution plan is complete and in a safe order, the commands work through
the real command line, and no upsert sets a column from a function Citus refuses there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.provisioning import connect_admin
from core.scale_out import citus_problems, distribution_plan, read_schema
from tests.core.commandline import app_env, tenantry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner_connection(app, database):
    with connect_admin(database.owner_url) as connection:
        yield connection


def test_the_migrated_schema_keeps_citus_rules(owner_connection):
    assert citus_problems(owner_connection) == []


def test_a_trigger_branching_on_its_table_name_is_reported(admin_connection):
    admin_connection.execute("""
        CREATE TABLE scale_probe (tenant_id uuid, id int, PRIMARY KEY (tenant_id, id));
        CREATE FUNCTION scale_probe_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF TG_TABLE_NAME = 'scale_probe' THEN RETURN NEW; END IF; RETURN NEW; END $$;
        CREATE TRIGGER scale_probe_guard BEFORE UPDATE ON scale_probe
            FOR EACH ROW EXECUTE FUNCTION scale_probe_guard();
        CREATE TABLE scale_probe_bad (tenant_id uuid, id int PRIMARY KEY)""")
    try:
        problems = citus_problems(admin_connection)
    finally:
        admin_connection.execute("DROP TABLE scale_probe, scale_probe_bad; "
                                 "DROP FUNCTION scale_probe_guard()")
    assert any("scale_probe_guard branches on TG_TABLE_NAME" in p for p in problems)
    assert any(p.startswith("scale_probe_bad:") and "does not include tenant_id" in p
               for p in problems)


def test_the_plan_distributes_everything_in_a_safe_order(owner_connection):
    schema = read_schema(owner_connection)
    plan = distribution_plan(owner_connection, app_role="tenantry_app")
    assert plan[0] == "SET citus.enable_unsafe_triggers TO on"
    assert "citus.propagate_set_commands TO 'local'" in plan[1]
    references = [s for s in plan if "create_reference_table" in s]
    distributed = [s for s in plan if "create_distributed_table" in s]
    assert len(references) == len(schema.platform_tables) >= 5
    assert len(distributed) == len(schema.tenant_tables) >= 30
    assert "colocate_with => 'none'" in distributed[0]
    assert all("colocate_with => 'none'" not in s for s in distributed[1:])
    # Every tenant-to-tenant foreign key dropped before the first distribution and added back
    # after the last.
    drops = [i for i, s in enumerate(plan) if "DROP CONSTRAINT" in s]
    adds = [i for i, s in enumerate(plan) if "ADD CONSTRAINT" in s]
    first, last = plan.index(distributed[0]), plan.index(distributed[-1])
    assert drops and len(drops) == len(adds)
    assert max(drops) < first and min(adds) > last


def test_reference_tables_come_after_what_they_refer_to(owner_connection):
    plan = distribution_plan(owner_connection)
    order = [re.search(r"'(\w+)'", s).group(1) for s in plan if "create_reference_table" in s]
    for key in read_schema(owner_connection).foreign_keys:
        if key.table in order and key.target in order and key.table != key.target:
            assert order.index(key.target) < order.index(key.table), key.name


def test_the_commands_work_through_the_command_line(app, database, tmp_path):
    env = app_env(database, tmp_path)
    checked = tenantry("scale-out", "check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert "no problem found" in checked.stdout
    planned = tenantry("scale-out", "distribute", "--dry-run", env=env)
    assert planned.returncode == 0, planned.stderr
    assert "create_distributed_table('users', 'tenant_id', colocate_with => 'none');" in (
        planned.stdout)
    refused = tenantry("scale-out", "distribute", env=env)
    assert refused.returncode == 1
    assert "citus extension is not installed" in refused.stderr


_UPSERT_SET = re.compile(r"DO\s+UPDATE\s+SET(.*?)(?:RETURNING|WHERE|;|\"\"\"|\)\s*$)",
                         re.IGNORECASE | re.DOTALL)


def _sources() -> list[Path]:
    return sorted(path for folder in ("core", "plugins", "migrations")
                  for path in (ROOT / folder).rglob("*.py"))


def test_no_upsert_sets_a_column_from_now():
    """Citus refuses functions that are not IMMUTABLE (now(), a timestamp minus an interval)
    in DO UPDATE SET; bind the time from Python instead. Migrations already applied are
    history: only the current definition counts, which the newest revision holds."""
    offending = []
    for path in _sources():
        text = path.read_text()
        for match in _UPSERT_SET.finditer(text):
            if re.search(r"\bnow\(\)|current_timestamp|clock_timestamp", match.group(1),
                         re.IGNORECASE):
                offending.append(str(path.relative_to(ROOT)))
    assert offending == []


def test_the_upsert_scan_can_fail():
    sample = "ON CONFLICT (key) DO UPDATE SET seen = now() RETURNING 1"
    assert re.search(r"\bnow\(\)", _UPSERT_SET.search(sample).group(1))
