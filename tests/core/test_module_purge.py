"""``tenantry modules purge`` (issue 17, item 1) through the real command line: the dry run
lists exactly what the purge deletes; the purge removes only that tenant's rows of that module
(other tenants' rows and every other module's rows unchanged), posted documents and ledger
entries included, in one transaction with a receipt in both audit logs; an enabled module, or
one another module still needs, is refused; the module starts empty when enabled again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.commandline import app_env, tenantry
from tests.fixtures.commerce import sell
from tests.fixtures.products import make_product, receive_stock

OTHERS = ("stock_moves", "products")
POS_TABLES = ("pos_receipts", "pos_receipt_lines", "pos_payments", "pos_shifts",
              "pos_shift_totals", "pos_registers", "pos_fiscal_records")


def _rows(admin_connection, tenant_id, tables) -> dict[str, int]:
    return {table: admin_connection.execute(
        f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant_id,)).fetchone()[0]
        for table in tables}


def _ledger(admin_connection, tenant_id) -> dict[str, int]:
    return dict(admin_connection.execute(
        "SELECT chain, count(*) FROM ledger_entries WHERE tenant_id = %s GROUP BY chain",
        (tenant_id,)).fetchall())


@pytest.fixture
def two_shops(make_tenant):
    shops = []
    for _ in range(2):
        shop = make_tenant(modules=["pos", "stock"])
        owner, cashier = shop.as_role("owner"), shop.as_role("cashier")
        admin = shop.as_role("admin")
        product = make_product(admin, sale_price="2.50", tax_rate="10")
        receive_stock(admin, product["id"], "10")
        register = owner.post("/api/v1/pos/registers", json={"code": "R1", "name": "T"}).json
        shift = cashier.post(f"/api/v1/pos/registers/{register['id']}/shifts", json={}).json
        sell(cashier, register, [{"product_id": product["id"], "quantity": "1"}],
             [{"method": "cash", "amount": "5.00"}])
        cashier.post(f"/api/v1/pos/shifts/{shift['id']}/close", json={"counted_cash": "2.75"})
        shops.append(shop)
    return shops


def test_dry_run_then_purge_of_one_tenants_module(database, tmp_path: Path, two_shops,
                                                  admin_connection):
    shop, other = two_shops
    env = app_env(database, tmp_path)
    refused = tenantry("modules", "purge", shop.slug, "pos", "--dry-run", env=env)
    assert refused.returncode == 1 and "is enabled for this tenant" in refused.stderr
    assert shop.as_role("owner").patch("/api/v1/tenant/settings", json={"modules": {
        "pos": {"enabled": False}}}).status_code == 200
    before_other = _rows(admin_connection, other.id, (*POS_TABLES, *OTHERS))
    ledger_other = _ledger(admin_connection, other.id)
    before = _rows(admin_connection, shop.id, POS_TABLES)
    dry = tenantry("modules", "purge", shop.slug, "pos", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    for table, count in before.items():
        assert f"  {table:32} {count}\n" in dry.stdout, table
    assert "ledger_entries (pos_receipts)" in dry.stdout
    assert _rows(admin_connection, shop.id, POS_TABLES) == before  # a dry run deletes nothing

    done = tenantry("modules", "purge", shop.slug, "pos", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert set(_rows(admin_connection, shop.id, POS_TABLES).values()) == {0}
    ledger = _ledger(admin_connection, shop.id)
    assert not any(chain.startswith("pos_") for chain in ledger)
    assert ledger["stock_moves"] == 2  # stock's own chain is not POS's to purge
    assert _rows(admin_connection, shop.id, ("products", "stock_moves")) == {
        "products": 1, "stock_moves": 2}
    assert _rows(admin_connection, other.id, (*POS_TABLES, *OTHERS)) \
        == before_other
    assert _ledger(admin_connection, other.id) == ledger_other
    [receipt] = shop.as_role("owner").get("/api/v1/tenant/audit",
                                          query_string={"action": "module.purged"}).json
    assert receipt["changes"]["after"]["tables"]["pos_receipts"] == 1
    # Enabled again, the module starts empty and works.
    owner = shop.as_role("owner")
    assert owner.patch("/api/v1/tenant/settings", json={"modules": {
        "pos": {"enabled": True}}}).status_code == 200
    assert owner.get("/api/v1/pos/registers").json == []
    assert owner.get("/api/v1/tenant/ledger").json["ok"] is True


def test_a_module_others_need_is_refused(database, tmp_path: Path, two_shops):
    shop = two_shops[0]
    env = app_env(database, tmp_path)
    assert shop.as_role("owner").patch("/api/v1/tenant/settings", json={"modules": {
        "pos": {"enabled": False}, "sales": {"enabled": False}}}).status_code == 200
    # catalog: stock requires it and is enabled; sales: pos requires it, is off, has data.
    enabled = tenantry("modules", "purge", shop.slug, "catalog", "--dry-run", env=env)
    assert enabled.returncode == 1 and "is enabled for this tenant" in enabled.stderr
    blocked = tenantry("modules", "purge", shop.slug, "sales", "--dry-run", env=env)
    assert blocked.returncode == 1
    assert "module 'pos' requires 'sales' and still has data" in blocked.stderr


def test_unknown_tenant_and_module(database, tmp_path: Path, two_shops):
    env = app_env(database, tmp_path)
    assert "no tenant 'nope'" in tenantry("modules", "purge", "nope", "pos", "--dry-run",
                                         env=env).stderr
    unknown = tenantry("modules", "purge", two_shops[0].slug, "nope", "--dry-run", env=env)
    assert unknown.returncode == 1 and "no module 'nope'" in unknown.stderr
    asked = tenantry("modules", "purge", two_shops[0].slug, "pos", env=env, input="n\n")
    assert asked.returncode == 1  # pos is enabled: refused before any question


def test_the_app_role_cannot_take_the_erasure_path(database, two_shops):
    """The app role may set any setting and may DELETE from the mutable shift totals, but the
    erasure exception is the tables' owner's alone: a closed shift's totals stay frozen."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database.app_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as app_role:
        app_role.execute("SELECT set_config('app.tenant_id', %s, true)", (str(two_shops[0].id),))
        app_role.execute("SELECT set_config('tenantry.erasure', 'on', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="frozen"):
            app_role.execute("DELETE FROM pos_shift_totals WHERE tenant_id = %s",
                             (two_shops[0].id,))
