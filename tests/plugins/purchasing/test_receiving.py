"""Receiving purchase orders into stock: partial and full receipts, receipt moves at the
line's cost, over-receipt rules, locations, Idempotency-Key, concurrent receipts."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest

from core.testing.app import HostClient
from tests.fixtures.products import make_product, on_hand

ORDERS = "/api/v1/purchasing/orders"


@pytest.fixture(scope="module")
def supplier(shop):
    return shop.admin.post("/api/v1/purchasing/suppliers", json={"name": "Receiving"}).json


def _ordered(shop, supplier, *lines) -> dict:
    order = shop.admin.post(ORDERS, json={"supplier_id": supplier["id"], "lines": [
        {"product_id": p["id"], "quantity": q, "unit_cost": c} for p, q, c in lines]}).json
    response = shop.admin.post(f"{ORDERS}/{order['id']}/order")
    assert response.status_code == 200, response.json
    return response.json


def _receive(shop, order, expect=201, headers=None, **body):
    response = shop.admin.post(f"{ORDERS}/{order['id']}/receipts", json=body, headers=headers)
    assert response.status_code == expect, response.json
    return response.json


def test_partial_then_full_receipt(shop, supplier):
    pen, ink = make_product(shop.admin), make_product(shop.admin)
    order = _ordered(shop, supplier, (pen, "10", "1.00"), (ink, "4", "2.50"))
    pen_line = order["lines"][0]
    first = _receive(shop, order, lines=[{"line_id": pen_line["id"], "quantity": "6"}],
                     note="first truck")
    assert first["order"]["status"] == "partially_received"
    assert first["receipt"]["note"] == "first truck"
    assert [(r["line_id"], r["quantity"], r["unit_cost"]) for r in first["receipt"]["lines"]] \
        == [(pen_line["id"], "6.000", "1.00")]
    assert on_hand(shop.admin, pen["id"]) == 6 and on_hand(shop.admin, ink["id"]) == 0
    move_id = first["receipt"]["lines"][0]["stock_move_id"]
    move = shop.admin.get(f"/api/v1/stock/moves/{move_id}").json
    assert (move["reason"], move["reference_type"], move["reference_id"]) == (
        "receipt", "purchase_receipt", first["receipt"]["id"])
    assert move["unit_cost"] == "1.0000"
    # No lines: everything still outstanding.
    second = _receive(shop, order)
    assert second["order"]["status"] == "received" and second["order"]["received_at"]
    assert sorted(r["quantity"] for r in second["receipt"]["lines"]) == ["4.000", "4.000"]
    assert [line["outstanding_quantity"] for line in second["order"]["lines"]] == ["0.000"] * 2
    assert on_hand(shop.admin, pen["id"]) == 10 and on_hand(shop.admin, ink["id"]) == 4
    receipts = shop.admin.get(f"{ORDERS}/{order['id']}/receipts").json
    assert [r["id"] for r in receipts] == [first["receipt"]["id"], second["receipt"]["id"]]
    _receive(shop, order, expect=409)  # closed


def test_receipts_move_the_average_cost(shop, supplier):
    product = make_product(shop.admin)
    _receive(shop, _ordered(shop, supplier, (product, "10", "2.00")))
    _receive(shop, _ordered(shop, supplier, (product, "30", "4.00")))
    stock = shop.admin.get(f"/api/v1/stock/products/{product['id']}").json
    assert (stock["quantity"], stock["average_cost"]) == ("40.000", "3.5000")


def test_over_receipt_is_409_unless_allowed(shop, supplier):
    product = make_product(shop.admin)
    order = _ordered(shop, supplier, (product, "5", "1.00"))
    line = order["lines"][0]
    too_many = [{"line_id": line["id"], "quantity": "6"}]
    response = _receive(shop, order, expect=409, lines=too_many)
    assert response["errors"]["over"][0]["line_id"] == line["id"]
    assert on_hand(shop.admin, product["id"]) == 0
    allowed = _receive(shop, order, lines=too_many, allow_over_receipt=True)
    assert allowed["order"]["status"] == "received"
    assert allowed["order"]["lines"][0]["received_quantity"] == "6.000"
    assert on_hand(shop.admin, product["id"]) == 6


def test_over_receipt_allowed_by_the_feature(make_shop):
    shop = make_shop()
    owner = shop.tenant.as_role("owner")
    assert owner.patch("/api/v1/tenant/settings", json={"modules": {"purchasing": {
        "features": {"allow_over_receipt": True}}}}).status_code == 200
    supplier = shop.admin.post("/api/v1/purchasing/suppliers", json={"name": "S"}).json
    product = make_product(shop.admin)
    order = _ordered(shop, supplier, (product, "1", "1.00"))
    receipt = _receive(shop, order, lines=[{"line_id": order["lines"][0]["id"], "quantity": "3"}])
    assert receipt["order"]["status"] == "received"


def test_receiving_into_a_named_location(shop, supplier):
    back = shop.admin.post("/api/v1/stock/locations", json={"code": "RCV", "name": "Dock"}).json
    product = make_product(shop.admin)
    order = _ordered(shop, supplier, (product, "2", "1.00"))
    receipt = _receive(shop, order, location_id=back["id"])
    assert receipt["receipt"]["location_id"] == back["id"]
    assert on_hand(shop.admin, product["id"], back["id"]) == 2


def test_invalid_receipts(shop, other_shop, supplier):
    product = make_product(shop.admin)
    order = _ordered(shop, supplier, (product, "2", "1.00"))
    line_id = order["lines"][0]["id"]
    other = _ordered(shop, supplier, (product, "2", "1.00"))
    cases = [
        ({"lines": [{"line_id": other["lines"][0]["id"], "quantity": "1"}]}, "lines"),
        ({"lines": [{"line_id": line_id, "quantity": "1"}] * 2}, "lines"),
        ({"location_id": other_shop.default_location()}, "location_id"),
        ({"location_id": str(uuid.uuid4())}, "location_id"),
    ]
    for body, field in cases:
        response = _receive(shop, order, expect=422, **body)
        assert field in response["errors"], response
    for body in ({"lines": [{"line_id": line_id, "quantity": "0"}]},
                 {"lines": [{"line_id": "nope", "quantity": "1"}]},
                 {"allow_over_receipt": "sometimes"}, {"extra": 1}):
        _receive(shop, order, expect=422, **body)
    draft = shop.admin.post(ORDERS, json={"supplier_id": supplier["id"], "lines": [
        {"product_id": product["id"], "quantity": "1", "unit_cost": "1"}]}).json
    assert "order it first" in _receive(shop, draft, expect=409)["message"]
    assert shop.admin.get(f"{ORDERS}/{order['id']}").json["status"] == "ordered"
    assert on_hand(shop.admin, product["id"]) == 0


def test_idempotency_key_replays_the_receipt(shop, supplier):
    product = make_product(shop.admin)
    order = _ordered(shop, supplier, (product, "5", "1.00"))
    body = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": "2"}]}
    key = {"Idempotency-Key": f"rcv-{uuid.uuid4()}"}
    first = shop.admin.post(f"{ORDERS}/{order['id']}/receipts", json=body, headers=key)
    again = shop.admin.post(f"{ORDERS}/{order['id']}/receipts", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert on_hand(shop.admin, product["id"]) == 2
    changed = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": "3"}]}
    response = shop.admin.post(f"{ORDERS}/{order['id']}/receipts", json=changed, headers=key)
    assert response.status_code == 422
    assert len(shop.admin.get(f"{ORDERS}/{order['id']}/receipts").json) == 1
    # A refused receipt does not use the key up: the corrected retry runs.
    key = {"Idempotency-Key": f"rcv-{uuid.uuid4()}"}
    too_many = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": "9"}]}
    assert shop.admin.post(f"{ORDERS}/{order['id']}/receipts", json=too_many,
                           headers=key).status_code == 409
    assert on_hand(shop.admin, product["id"]) == 2
    corrected = {"allow_over_receipt": True, **too_many}
    assert shop.admin.post(f"{ORDERS}/{order['id']}/receipts", json=corrected,
                           headers=key).status_code == 201
    assert on_hand(shop.admin, product["id"]) == 11


def test_two_receipts_of_the_rest_at_once_receive_it_once(app, shop, supplier):
    product = make_product(shop.admin)
    order = _ordered(shop, supplier, (product, "7", "1.00"))
    barrier, results = threading.Barrier(2), []

    def receive_all():
        client = HostClient(app.test_client(), shop.tenant.host, token=shop.admin.token)
        barrier.wait()
        results.append(client.post(f"{ORDERS}/{order['id']}/receipts", json={}).status_code)

    threads = [threading.Thread(target=receive_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(results) == {201: 1, 409: 1}
    assert on_hand(shop.admin, product["id"]) == 7
