"""``tenantry tenants erase`` (issue 17, item 2) through the real command line: refused while
the tenant is active or within its grace period; the dry run lists what goes; the erasure
leaves 0 rows of the tenant in every tenant table (posted documents, ledger and audit log
included), the other tenants untouched, and a tombstone with the receipt; the slug is free."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.testing.isolation import tenant_tables
from tests.core.commandline import app_env, tenantry
from tests.fixtures.commerce import sell
from tests.fixtures.products import make_product, receive_stock


def _rows_everywhere(app, admin_connection, tenant_id) -> dict[str, int]:
    return {table.name: admin_connection.execute(
        f"SELECT count(*) FROM {table.name} WHERE tenant_id = %s", (tenant_id,)).fetchone()[0]
        for table in tenant_tables(app)}


@pytest.fixture
def closing_shop(make_tenant, platform_admin):
    shop = make_tenant(modules=["pos", "stock", "users"])
    admin, owner, cashier = (shop.as_role(r) for r in ("admin", "owner", "cashier"))
    product = make_product(admin, sale_price="2.50")
    receive_stock(admin, product["id"], "5")
    register = owner.post("/api/v1/pos/registers", json={"code": "R1", "name": "T"}).json
    cashier.post(f"/api/v1/pos/registers/{register['id']}/shifts", json={})
    sell(cashier, register, [{"product_id": product["id"], "quantity": "1"}],
         [{"method": "cash", "amount": "5.00"}])
    owner.post("/api/v1/api-keys", json={"label": "sync", "role": "admin"})
    assert platform_admin.post(f"/api/v1/platform/tenants/{shop.id}/deactivate"
                               ).status_code == 200
    return shop


def _age(admin_connection, shop, days):
    admin_connection.execute("UPDATE tenants SET updated_at = now() - make_interval(days => %s) "
                             "WHERE id = %s", (days, shop.id))


def test_erasure_leaves_nothing_of_the_tenant_but_a_tombstone(
        app, database, tmp_path: Path, closing_shop, make_tenant, admin_connection):
    other = make_tenant(modules=["catalog"])
    make_product(other.as_role("admin"))
    env = app_env(database, tmp_path, TENANT_ERASURE_GRACE_DAYS="30")
    early = tenantry("tenants", "erase", closing_shop.slug, "--dry-run", env=env)
    assert early.returncode == 1 and "may be erased 30 day(s) after" in early.stderr
    _age(admin_connection, closing_shop, 31)
    before = _rows_everywhere(app, admin_connection, closing_shop.id)
    others_before = _rows_everywhere(app, admin_connection, other.id)
    dry = tenantry("tenants", "erase", closing_shop.slug, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    for table in ("pos_receipts", "ledger_entries", "audit_events", "users", "api_keys"):
        assert f"  {table:32} {before[table]}\n" in dry.stdout, table
    assert _rows_everywhere(app, admin_connection, closing_shop.id) == before  # dry run

    done = tenantry("tenants", "erase", closing_shop.slug, "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert set(_rows_everywhere(app, admin_connection, closing_shop.id).values()) == {0}
    assert admin_connection.execute("SELECT count(*) FROM tenants WHERE id = %s",
                                    (closing_shop.id,)).fetchone()[0] == 0
    assert _rows_everywhere(app, admin_connection, other.id) == others_before
    slug, receipt = admin_connection.execute(
        "SELECT slug, receipt FROM tenant_tombstones WHERE id = %s", (closing_shop.id,)
    ).fetchone()
    assert slug == closing_shop.slug and receipt["rows"] == sum(before.values())
    assert receipt["tables"]["pos_receipts"] == 1
    # The slug can serve a new tenant.
    assert make_tenant(slug=closing_shop.slug).slug == closing_shop.slug


def test_an_active_tenant_is_refused_and_nothing_changes(app, database, tmp_path: Path,
                                                         make_tenant, admin_connection):
    shop = make_tenant(modules=["catalog"])
    make_product(shop.as_role("admin"))
    _age(admin_connection, shop, 400)
    before = _rows_everywhere(app, admin_connection, shop.id)
    refused = tenantry("tenants", "erase", shop.slug, "--yes", env=app_env(database, tmp_path))
    assert refused.returncode == 1 and "is active: deactivate it first" in refused.stderr
    assert _rows_everywhere(app, admin_connection, shop.id) == before
    unknown = tenantry("tenants", "erase", "nobody-here", env=app_env(database, tmp_path))
    assert unknown.returncode == 1 and "no tenant 'nobody-here'" in unknown.stderr


def test_tombstones_are_read_only_for_the_app_role(database, closing_shop, admin_connection,
                                                   tmp_path: Path):
    import psycopg
    from sqlalchemy.engine import make_url

    _age(admin_connection, closing_shop, 31)
    assert tenantry("tenants", "erase", closing_shop.slug, "--yes",
                    env=app_env(database, tmp_path)).returncode == 0
    url = make_url(database.app_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as app_role:
        assert app_role.execute("SELECT count(*) FROM tenant_tombstones WHERE id = %s",
                                (closing_shop.id,)).fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app_role.execute("DELETE FROM tenant_tombstones WHERE id = %s", (closing_shop.id,))
