"""The move ledger is append-only in the database itself: the app role lacks UPDATE, DELETE
and TRUNCATE, and a trigger refuses them for every role, the table owner and superusers
included. Posted purchase receipts are protected the same way."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.fixtures.products import make_product, receive_stock

STATEMENTS = {
    "update": "UPDATE {table} SET {column} = {column}",
    "delete": "DELETE FROM {table}",
    "truncate": "TRUNCATE {table} CASCADE",  # CASCADE: no foreign key can be the reason
}
PROTECTED = [("stock_moves", "note"), ("purchase_receipts", "note"),
             ("purchase_receipt_lines", "quantity")]


@pytest.fixture(scope="module")
def posted(shop):
    """A shop with a stock move and a purchase receipt in its ledgers."""
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 5)
    supplier = shop.admin.post("/api/v1/purchasing/suppliers", json={"name": "Acme"}).json
    order = shop.admin.post("/api/v1/purchasing/orders", json={
        "supplier_id": supplier["id"],
        "lines": [{"product_id": product["id"], "quantity": "1", "unit_cost": "1.00"}]}).json
    assert shop.admin.post(f"/api/v1/purchasing/orders/{order['id']}/order").status_code == 200
    assert shop.admin.post(f"/api/v1/purchasing/orders/{order['id']}/receipts",
                           json={}).status_code == 201
    return shop


def _run(url: str, tenant_id, statement: str) -> str | None:
    """Run ``statement`` scoped to the tenant; the database's refusal message, or None."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                               {"t": str(tenant_id)})
            try:
                connection.execute(text(statement))
            except DBAPIError as exc:
                return str(exc.orig)
            finally:
                connection.rollback()
    finally:
        engine.dispose()
    return None


def _count(url: str, tenant_id, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                               {"t": str(tenant_id)})
            return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("table, column", PROTECTED)
@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_the_app_role_cannot_change_the_ledger(posted, database, table, column, kind):
    assert _count(database.app_url, posted.id, table) > 0  # the rows are visible to it
    error = _run(database.app_url, posted.id, STATEMENTS[kind].format(table=table, column=column))
    assert error is not None and "permission denied" in error


@pytest.mark.parametrize("table, column", PROTECTED)
@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_the_owner_and_superusers_cannot_either(posted, database, table, column, kind):
    for url in (database.owner_url, database.admin_url):
        error = _run(url, posted.id, STATEMENTS[kind].format(table=table, column=column))
        assert error is not None and "append-only" in error, (url, error)
    assert _count(database.owner_url, posted.id, table) > 0

