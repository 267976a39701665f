"""Erasure through the platform API (issue 17, item 2): a platform admin requests the erasure of
an inactive tenant (refused while it is active), reads and withdraws it; reactivating the
tenant withdraws it; ``tenantry tenants erase --scheduled`` (the daily job, a real subprocess)
erases the tenants whose grace period has passed and keeps, reports and exits 1 for one it
must refuse. Other credentials and hosts get nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.core.commandline import app_env, tenantry


def _erasure(tenant) -> str:
    return f"/api/v1/platform/tenants/{tenant.id}/erasure"


@pytest.fixture
def closed(make_tenant, platform_admin):
    tenant = make_tenant(modules=["catalog"])
    assert platform_admin.post(f"/api/v1/platform/tenants/{tenant.id}/deactivate"
                               ).status_code == 200
    return tenant


def test_request_read_and_withdraw(make_tenant, closed, platform_admin, admin_connection):
    active = make_tenant()
    refused = platform_admin.post(_erasure(active))
    assert refused.status_code == 409 and "deactivate it first" in refused.json["message"]
    asked = platform_admin.post(_erasure(closed))
    assert asked.status_code == 202, asked.json
    updated_at = admin_connection.execute("SELECT updated_at FROM tenants WHERE id = %s",
                                          (closed.id,)).fetchone()[0]
    assert datetime.fromisoformat(asked.json["erase_after"]) == updated_at + timedelta(days=30)
    assert asked.json["requested_by"].startswith("platform:")
    again = platform_admin.post(_erasure(closed))
    assert again.status_code == 200 and again.json == asked.json
    assert platform_admin.get(_erasure(closed)).json == asked.json
    assert platform_admin.delete(_erasure(closed)).status_code == 204
    assert platform_admin.get(_erasure(closed)).status_code == 404
    assert platform_admin.delete(_erasure(closed)).status_code == 404
    actions = [e["action"] for e in platform_admin.get(
        "/api/v1/platform/audit", query_string={"tenant_id": str(closed.id)}).json]
    assert actions[:2] == ["tenant.erasure_withdrawn", "tenant.erasure_requested"]


def test_reactivating_the_tenant_withdraws_the_request(closed, platform_admin):
    assert platform_admin.post(_erasure(closed)).status_code == 202
    assert platform_admin.post(f"/api/v1/platform/tenants/{closed.id}/activate"
                               ).status_code == 200
    assert platform_admin.get(_erasure(closed)).status_code == 404


def test_other_credentials_and_hosts_get_nothing(closed, make_tenant, platform_admin,
                                                 platform):
    import uuid

    assert platform.post(_erasure(closed)).status_code == 401
    owner = make_tenant().as_role("owner")  # a tenant's host: the platform API is not there
    assert owner.post(_erasure(closed)).status_code == 404
    assert platform_admin.post(f"/api/v1/platform/tenants/{uuid.uuid4()}/erasure"
                               ).status_code == 404
    assert platform_admin.get(_erasure(closed)).status_code == 404  # nothing was requested


def _due(admin_connection, tenant, *, changed_days_ago):
    admin_connection.execute(
        "UPDATE tenants SET updated_at = now() - make_interval(days => %s) WHERE id = %s",
        (changed_days_ago, tenant.id))
    admin_connection.execute("UPDATE tenant_erasure_requests SET erase_after = now() - "
                             "interval '1 day' WHERE id = %s", (tenant.id,))


def test_the_scheduled_job_erases_what_is_due_and_reports_what_it_must_refuse(
        database, tmp_path: Path, make_tenant, platform_admin, admin_connection):
    due, waiting, changed = [make_tenant(modules=["catalog"]) for _ in range(3)]
    for tenant in (due, waiting, changed):
        platform_admin.post(f"/api/v1/platform/tenants/{tenant.id}/deactivate")
        assert platform_admin.post(_erasure(tenant)).status_code == 202
    _due(admin_connection, due, changed_days_ago=31)
    env = app_env(database, tmp_path, TENANT_ERASURE_GRACE_DAYS="30")

    dry = tenantry("tenants", "erase", "--scheduled", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert f"erasing tenant {due.slug} would delete" in dry.stdout
    assert waiting.slug not in dry.stdout
    assert admin_connection.execute("SELECT count(*) FROM tenants WHERE id = %s",
                                    (due.id,)).fetchone()[0] == 1

    _due(admin_connection, changed, changed_days_ago=2)  # renamed since: its wait restarted
    done = tenantry("tenants", "erase", "--scheduled", env=env)
    assert done.returncode == 1
    assert f"erased tenant {due.slug}:" in done.stdout
    assert "2 due, 1 refused" in done.stdout
    assert f"refused: {changed.slug}: tenant '{changed.slug}' changed on" in done.stderr
    assert admin_connection.execute("SELECT slug FROM tenant_tombstones WHERE id = %s",
                                    (due.id,)).fetchone()[0] == due.slug
    kept = {row[0] for row in admin_connection.execute(
        "SELECT id FROM tenant_erasure_requests WHERE id = ANY(%s)",
        ([due.id, waiting.id, changed.id],)).fetchall()}
    assert kept == {waiting.id, changed.id}  # the erased one's request went with it


def test_the_command_wants_a_slug_or_scheduled(database, tmp_path: Path):
    neither = tenantry("tenants", "erase", env=app_env(database, tmp_path))
    assert neither.returncode == 2 and "give a tenant's SLUG, or --scheduled" in neither.stderr
    both = tenantry("tenants", "erase", "x", "--scheduled", env=app_env(database, tmp_path))
    assert both.returncode == 2
