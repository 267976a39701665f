"""One connection per request, always: apps whose pool holds exactly one connection and may not
open another (pool_size 1, max_overflow 0) serve every endpoint class, idempotent creates
included. A request that asked for a second pooled connection while its own holds the only one
would wait ``pool_timeout`` and fail, so success here is the proof.

Also, two such one-connection "workers" side by side: a duplicate of an idempotent POS receipt
still running in one gets 409 at once in the other, and the stored answer afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from core import create_app
from core.extensions import db
from core.provisioning import connect_admin
from core.testing.app import HostClient, app_config
from core.testing.tenants import PASSWORD
from tests.fixtures.commerce import moves_of
from tests.fixtures.products import make_product, receive_stock

ONE_CONNECTION = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 5}
WAIT = 10  # seconds a test waits for another thread before it fails


def _one_connection_app(database):
    return create_app(app_config(database, SQLALCHEMY_ENGINE_OPTIONS=ONE_CONNECTION))


@pytest.fixture(scope="module")
def bounded_app(app, database):
    """A worker whose pool has one connection and no overflow (``app`` migrated the schema)."""
    application = _one_connection_app(database)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def bounded(bounded_app):
    """``bounded(client)``: the same host and credentials, sent to the one-connection app."""
    test_client = bounded_app.test_client()
    return lambda other: HostClient(test_client, other.host, token=other.token,
                                    api_key=other.api_key)


def _key() -> dict:
    return {"Idempotency-Key": f"bounded-{uuid.uuid4()}"}


def _count(admin_connection, table, tenant_id) -> int:
    return admin_connection.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                                    (tenant_id,)).fetchone()[0]


def _receipt_body(products) -> dict:
    return {"lines": [{"product_id": products[0]["id"], "quantity": "1"}],
            "payments": [{"method": "cash", "amount": "5.00"}]}


def test_the_pool_really_has_one_connection(bounded_app):
    with bounded_app.app_context():
        pool = db.engine.pool
        assert (pool.size(), pool._max_overflow, pool._timeout) == (1, 0, 5)


def test_an_idempotent_pos_receipt_completes_and_replays(bounded, pos_store, pos_cashier,
                                                         pos_register, pos_shift, pos_products,
                                                         admin_connection):
    cashier, key = bounded(pos_cashier), _key()
    url = f"/api/v1/pos/registers/{pos_register['id']}/receipts"
    first = cashier.post(url, json=_receipt_body(pos_products), headers=key)
    assert first.status_code == 201, first.json
    again = cashier.post(url, json=_receipt_body(pos_products), headers=key)
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(admin_connection, "pos_receipts", pos_store.id) == 1
    assert len(moves_of(admin_connection, pos_store.id, first.json["id"])) == 1


def test_an_idempotent_sale_completes(bounded, make_tenant, admin_connection):
    shop = make_tenant(modules=["sales", "stock"])
    product = make_product(shop.as_role("admin"), sale_price="10.00")
    receive_stock(shop.as_role("admin"), product["id"], "5")
    cashier = bounded(shop.as_role("cashier"))
    created = cashier.post("/api/v1/sales/orders", headers=_key(), json={
        "lines": [{"product_id": product["id"], "quantity": "2"}]})
    assert created.status_code == 201, created.json
    url = f"/api/v1/sales/orders/{created.json['id']}"
    assert cashier.post(f"{url}/confirm").status_code == 200
    fulfilled = cashier.post(f"{url}/fulfil", headers=_key())
    assert fulfilled.status_code == 200, fulfilled.json
    assert fulfilled.json["status"] == "fulfilled"
    assert [row[0] for row in moves_of(admin_connection, shop.id, created.json["id"])] \
        == ["sale"]


def test_an_idempotent_purchase_receipt_completes(bounded, make_shop):
    shop = make_shop()
    admin = bounded(shop.admin)
    product = make_product(shop.admin, sale_price="3.00")
    supplier = admin.post("/api/v1/purchasing/suppliers", json={"name": "Bounded"}).json
    order = admin.post("/api/v1/purchasing/orders", json={
        "supplier_id": supplier["id"],
        "lines": [{"product_id": product["id"], "quantity": "4", "unit_cost": "1.00"}]}).json
    url = f"/api/v1/purchasing/orders/{order['id']}"
    assert admin.post(f"{url}/order").status_code == 200
    key = _key()
    received = admin.post(f"{url}/receipts", json={}, headers=key)
    assert received.status_code == 201, received.json
    assert received.json["order"]["status"] == "received"
    replay = admin.post(f"{url}/receipts", json={}, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == received.json


def test_an_idempotent_case_completes(bounded, make_tenant, issue_key, admin_connection):
    clinic = make_tenant(modules=["cases"])
    api = bounded(clinic.anonymous().with_api_key(issue_key(clinic, "user")))
    key = _key()
    created = api.post("/cases", json={"title": "bounded"}, headers=key)
    assert created.status_code == 201, created.json
    replay = api.post("/cases", json={"title": "bounded"}, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == created.json
    assert _count(admin_connection, "cases", clinic.id) == 1


def test_every_endpoint_class_completes(bounded, make_tenant):
    """Login (good and bad), GET list, GET one, POST create, PATCH, errors, idempotent POST."""
    store = make_tenant(modules=["catalog"])
    anonymous = bounded(store.anonymous())
    failed = anonymous.post("/api/v1/auth/login", json={"email": store.users["owner"],
                                                        "password": "wrong-password"})
    assert failed.status_code == 401, failed.json
    login = anonymous.post("/api/v1/auth/login", json={"email": store.users["owner"],
                                                       "password": PASSWORD})
    assert login.status_code == 200, login.json
    owner = anonymous.with_token(login.json["access_token"])
    assert owner.get("/api/v1/auth/me").status_code == 200
    products = "/api/v1/catalog/products"
    created = owner.post(products, json={"sku": "B-1", "name": "Bounded",
                                         "sale_price": "1.00"})
    assert created.status_code == 201, created.json
    one = owner.get(f"{products}/{created.json['id']}")
    assert one.status_code == 200
    changed = owner.patch(f"{products}/{created.json['id']}", json={"name": "Renamed"},
                          headers={"If-Match": one.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["name"] == "Renamed"
    listed = owner.get(products)
    assert listed.status_code == 200 and [p["name"] for p in listed.json] == ["Renamed"]
    assert owner.get(f"{products}/{uuid.uuid4()}").status_code == 404
    assert owner.post(products, json={"sku": ""}).status_code == 422
    assert anonymous.get(products).status_code == 401
    # Stale If-Match: 412.
    stale = owner.patch(f"{products}/{created.json['id']}", json={"name": "Again"},
                        headers={"If-Match": one.headers["ETag"]})
    assert stale.status_code == 412


# --------------------------------------------------------------------------- two workers


def test_a_duplicate_in_another_one_connection_worker_is_409_at_once(
        app, database, bounded_app, pos_store, pos_cashier, pos_register, pos_shift,
        pos_products, admin_connection):
    other_worker = _one_connection_app(database)
    key, body = _key(), _receipt_body(pos_products)
    url = f"/api/v1/pos/registers/{pos_register['id']}/receipts"
    first_client = HostClient(bounded_app.test_client(), pos_cashier.host, pos_cashier.token)
    second_client = HostClient(other_worker.test_client(), pos_cashier.host, pos_cashier.token)
    answers = {}
    with connect_admin(database.admin_url) as holder:
        # Hold the first request inside its view, at its INSERT of the receipt.
        holder.autocommit = False
        holder.execute("LOCK TABLE pos_receipts IN SHARE MODE")
        first = threading.Thread(target=lambda: answers.setdefault(
            "first", first_client.post(url, json=body, headers=key)))
        first.start()
        safety = threading.Timer(3 * WAIT, holder.rollback)  # never a hung test
        safety.start()
        try:
            _wait_for_insert(admin_connection, "pos_receipts")
            started = time.monotonic()
            duplicate = second_client.post(url, json=body, headers=key)
            assert time.monotonic() - started < WAIT
            assert duplicate.status_code == 409, duplicate.json
            assert "still being processed" in duplicate.json["message"]
        finally:
            holder.rollback()
            first.join(WAIT)
            safety.cancel()
    assert answers["first"].status_code == 201, answers["first"].json
    replay = second_client.post(url, json=body, headers=key)
    assert replay.status_code == 201 and replay.json == answers["first"].json
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _count(admin_connection, "pos_receipts", pos_store.id) == 1
    with other_worker.app_context():
        db.engine.dispose()


def _wait_for_insert(admin_connection, table: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if admin_connection.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s",
                # Anywhere in the text: a sale inserts its receipt inside a WITH.
                (f"%INSERT INTO {table}%",)).fetchone():
            return
        time.sleep(0.05)
    raise AssertionError(f"no request reached its INSERT INTO {table}")
