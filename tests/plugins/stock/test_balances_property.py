"""Property: whatever sequence of postings happens (receipts, takes, transfers, counts, sales
through the hook), every balance equals the sum of its moves, each product's on-hand quantity
equals the sum of its balances, nothing goes below zero while negatives are off, and each
posting is accepted exactly when a simple model of the balances says it should be."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from core.app_state import app_state
from core.errors import Conflict
from core.extensions import db
from core.rls import tenant_context
from tests.fixtures.inventory import build_shop
from tests.fixtures.products import make_product

PRODUCTS, LOCATIONS = 2, 2
quantities = st.integers(min_value=1, max_value=12)
products = st.integers(min_value=0, max_value=PRODUCTS - 1)
locations = st.integers(min_value=0, max_value=LOCATIONS - 1)
operations = st.one_of(
    st.tuples(st.just("receive"), products, locations, quantities,
              st.integers(min_value=0, max_value=5000)),
    st.tuples(st.just("take"), products, locations, quantities),
    st.tuples(st.just("transfer"), products, locations, locations, quantities),
    st.tuples(st.just("count"), products, locations, st.integers(min_value=0, max_value=15)),
    st.tuples(st.just("sale"), products, quantities),
)

# Scoped to the shop: other tests in this database may allow negative stock.
CONSISTENCY = text("""
    SELECT
      (SELECT count(*) FROM stock_balances b
        WHERE b.tenant_id = :t AND b.quantity <> (
              SELECT COALESCE(sum(m.quantity), 0) FROM stock_moves m
               WHERE m.tenant_id = b.tenant_id AND m.product_id = b.product_id
                 AND m.location_id = b.location_id)),
      (SELECT count(*) FROM (SELECT DISTINCT tenant_id, product_id, location_id
                               FROM stock_moves WHERE tenant_id = :t) m
        WHERE NOT EXISTS (SELECT 1 FROM stock_balances b WHERE b.tenant_id = m.tenant_id
                             AND b.product_id = m.product_id AND b.location_id = m.location_id)),
      (SELECT count(*) FROM stock_costs c
        WHERE c.tenant_id = :t AND c.quantity <> (
              SELECT COALESCE(sum(b.quantity), 0) FROM stock_balances b
               WHERE b.tenant_id = c.tenant_id AND b.product_id = c.product_id)),
      (SELECT count(*) FROM stock_balances WHERE tenant_id = :t AND quantity < 0),
      (SELECT count(*) FROM stock_costs WHERE tenant_id = :t AND average_cost < 0)
""")



@pytest.fixture(scope="module")
def world(app, database):
    """One shop with two products and two locations, and an owner-role engine to audit it."""
    shop = build_shop(app)
    product_ids = [make_product(shop.admin)["id"] for _ in range(PRODUCTS)]
    second = shop.admin.post("/api/v1/stock/locations", json={"code": "L2", "name": "Two"}).json
    location_ids = [shop.default_location(), second["id"]]
    engine = create_engine(database.owner_url)
    yield shop, product_ids, location_ids, engine
    engine.dispose()


def _audit(engine, tenant_id) -> tuple[int, ...]:
    with engine.connect() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                           {"t": str(tenant_id)})
        return tuple(connection.execute(CONSISTENCY, {"t": str(tenant_id)}).one())


def _sell_through_hook(app, tenant_id, product_id, quantity) -> bool:
    """A sale as the sales module would post it; False when stock refused it."""
    with app.app_context(), tenant_context(tenant_id):
        try:
            app_state(app).registry.hook.tenantry_stock_post_moves(
                tenant_id=tenant_id, actor="test:property", moves=[{
                    "product_id": product_id, "quantity": -Decimal(quantity),
                    "reason": "sale", "reference_type": "sale"}])
        except Conflict:
            db.session.rollback()
            return False
        db.session.commit()
        return True


def _nonzero(balances: dict) -> dict:
    return {key: value for key, value in balances.items() if value}


def _current(shop, product_ids, location_ids) -> dict:
    rows = shop.admin.get("/api/v1/stock/balances?page_size=100").json
    state = defaultdict(Decimal)
    for row in rows:
        if row["product_id"] in product_ids and row["location_id"] in location_ids:
            state[(row["product_id"], row["location_id"])] = Decimal(row["quantity"])
    return state


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(operations, min_size=1, max_size=8))
def test_balances_always_equal_the_sum_of_their_moves(app, world, steps):
    shop, product_ids, location_ids, engine = world
    model = _current(shop, product_ids, location_ids)
    client = shop.admin
    for step in steps:
        kind, p = step[0], product_ids[step[1]]
        if kind == "receive":
            _, _, l_, qty, cents = step
            response = client.post("/api/v1/stock/moves", json={"moves": [{
                "product_id": p, "location_id": location_ids[l_], "quantity": str(qty),
                "unit_cost": str(Decimal(cents) / 100), "reason": "receipt"}]})
            assert response.status_code == 201, response.json
            model[(p, location_ids[l_])] += qty
        elif kind == "take":
            _, _, l_, qty = step
            key = (p, location_ids[l_])
            response = client.post("/api/v1/stock/moves", json={"moves": [{
                "product_id": p, "location_id": key[1], "quantity": str(-qty),
                "reason": "adjustment"}]})
            expected = 201 if model[key] >= qty else 409
            assert response.status_code == expected, (step, model[key], response.json)
            if expected == 201:
                model[key] -= qty
        elif kind == "transfer":
            _, _, src, dst, qty = step
            response = client.post("/api/v1/stock/transfers", json={
                "from_location_id": location_ids[src], "to_location_id": location_ids[dst],
                "lines": [{"product_id": p, "quantity": str(qty)}]})
            if src == dst:
                assert response.status_code == 422
                continue
            expected = 201 if model[(p, location_ids[src])] >= qty else 409
            assert response.status_code == expected, (step, response.json)
            if expected == 201:
                model[(p, location_ids[src])] -= qty
                model[(p, location_ids[dst])] += qty
        elif kind == "count":
            _, _, l_, counted = step
            response = client.post("/api/v1/stock/adjustments", json={
                "location_id": location_ids[l_],
                "lines": [{"product_id": p, "counted_quantity": str(counted)}]})
            assert response.status_code == 201, response.json
            model[(p, location_ids[l_])] = Decimal(counted)
        else:  # a sale through the hook, from the default location
            _, _, qty = step
            key = (p, location_ids[0])
            assert _sell_through_hook(app, shop.id, p, qty) == (model[key] >= qty)
            if model[key] >= qty:
                model[key] -= qty
    assert _audit(engine, shop.id) == (0, 0, 0, 0, 0)
    assert _nonzero(_current(shop, product_ids, location_ids)) == _nonzero(model)
