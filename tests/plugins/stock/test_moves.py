"""Posting stock: manual moves, balances, moving-average cost, the negative-stock rule,
physical counts, transfers, the ledger's filters, and the refusals."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from tests.fixtures.inventory import assert_module_guard, assert_needs_credentials
from tests.fixtures.products import make_product, on_hand, post_moves, receive_stock

MOVES = "/api/v1/stock/moves"


def _stock(client, product_id):
    response = client.get(f"/api/v1/stock/products/{product_id}")
    assert response.status_code == 200, response.json
    return response.json


def test_receipts_set_balance_and_moving_average_cost(shop):
    product = make_product(shop.admin)
    first = receive_stock(shop.admin, product["id"], 10, "2.00")["moves"][0]
    assert first["quantity"] == "10.000" and first["unit_cost"] == "2.0000"
    assert first["actor"].startswith("user:") and first["reason"] == "receipt"
    receive_stock(shop.admin, product["id"], 30, "4.00")
    stock = _stock(shop.admin, product["id"])
    assert stock["quantity"] == "40.000"
    assert stock["average_cost"] == "3.5000"  # (10 x 2 + 30 x 4) / 40
    # Stock leaving is valued at the average and leaves it unchanged.
    out = post_moves(shop.admin, {"product_id": product["id"], "quantity": "-15",
                                  "reason": "adjustment", "note": "breakage"})["moves"][0]
    assert out["unit_cost"] == "3.5000" and out["note"] == "breakage"
    stock = _stock(shop.admin, product["id"])
    assert (stock["quantity"], stock["average_cost"]) == ("25.000", "3.5000")
    assert [b["quantity"] for b in stock["balances"]] == ["25.000"]


def test_average_restarts_from_the_incoming_cost_when_nothing_was_on_hand(shop):
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 2, "10.00")
    post_moves(shop.admin, {"product_id": product["id"], "quantity": "-2",
                            "reason": "adjustment"})
    receive_stock(shop.admin, product["id"], 1, "4.00")
    assert _stock(shop.admin, product["id"])["average_cost"] == "4.0000"


def test_taking_more_than_on_hand_is_409_and_writes_nothing(shop):
    product = make_product(shop.admin)
    other = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 3)
    receive_stock(shop.admin, other["id"], 3)
    # Two moves in one posting: the first fits, the second does not -> neither is written.
    response = shop.admin.post(MOVES, json={"moves": [
        {"product_id": other["id"], "quantity": "-1", "reason": "adjustment"},
        {"product_id": product["id"], "quantity": "-4", "reason": "adjustment"}]})
    assert response.status_code == 409
    assert response.json["errors"]["insufficient"][0]["product_id"] == product["id"]
    assert on_hand(shop.admin, product["id"]) == 3 and on_hand(shop.admin, other["id"]) == 3
    ledger = shop.admin.get(f"{MOVES}?product_id={other['id']}").json
    assert len(ledger) == 1
    # Taking from a product that never had stock is refused too.
    never = make_product(shop.admin)
    post_moves(shop.admin, {"product_id": never["id"], "quantity": "-1",
                            "reason": "adjustment"}, expect=409)


def test_moves_in_one_posting_net_out(shop):
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 1)
    post_moves(shop.admin,
               {"product_id": product["id"], "quantity": "-3", "reason": "adjustment"},
               {"product_id": product["id"], "quantity": "5", "reason": "receipt",
                "unit_cost": "1.00"})
    assert on_hand(shop.admin, product["id"]) == 3


def test_negative_stock_when_the_feature_allows_it(make_shop):
    shop = make_shop()
    owner = shop.tenant.as_role("owner")
    response = owner.patch("/api/v1/tenant/settings", json={"modules": {
        "stock": {"features": {"allow_negative_stock": True}}}})
    assert response.status_code == 200, response.json
    product = make_product(shop.admin)
    post_moves(shop.admin, {"product_id": product["id"], "quantity": "-2",
                            "reason": "adjustment"})
    assert on_hand(shop.admin, product["id"]) == -2
    receive_stock(shop.admin, product["id"], 5, "3.00")
    stock = _stock(shop.admin, product["id"])
    assert (stock["quantity"], stock["average_cost"]) == ("3.000", "3.0000")


def test_count_adjusts_to_what_was_counted(shop):
    found, lost, same = (make_product(shop.admin) for _ in range(3))
    receive_stock(shop.admin, lost["id"], 10, "2.00")
    receive_stock(shop.admin, same["id"], 4, "1.00")
    response = shop.admin.post("/api/v1/stock/adjustments", json={"note": "year end", "lines": [
        {"product_id": found["id"], "counted_quantity": "2", "unit_cost": "5.00"},
        {"product_id": lost["id"], "counted_quantity": "7.5"},
        {"product_id": same["id"], "counted_quantity": "4"}]})
    assert response.status_code == 201, response.json
    lines = {line["product_id"]: line for line in response.json["lines"]}
    assert lines[lost["id"]]["difference"] == "-2.500"
    assert lines[same["id"]]["difference"] == "0.000"
    assert sorted(m["quantity"] for m in response.json["moves"]) == ["-2.500", "2.000"]
    assert {m["reference_id"] for m in response.json["moves"]} == {response.json["id"]}
    assert on_hand(shop.admin, found["id"]) == 2
    assert _stock(shop.admin, found["id"])["average_cost"] == "5.0000"
    assert on_hand(shop.admin, lost["id"]) == Decimal("7.5")


@pytest.mark.parametrize("lines", [
    [],
    [{"product_id": "00000000-0000-0000-0000-000000000000", "counted_quantity": "-1"}],
    [{"counted_quantity": "1"}],
])
def test_invalid_counts_are_422(shop, lines):
    response = shop.admin.post("/api/v1/stock/adjustments", json={"lines": lines})
    assert response.status_code == 422


def test_count_refuses_duplicates_and_foreign_products(shop, other_shop):
    mine = make_product(shop.admin)
    theirs = make_product(other_shop.admin)
    twice = [{"product_id": mine["id"], "counted_quantity": "1"}] * 2
    assert shop.admin.post("/api/v1/stock/adjustments", json={"lines": twice}).status_code == 422
    response = shop.admin.post("/api/v1/stock/adjustments", json={"lines": [
        {"product_id": theirs["id"], "counted_quantity": "1"}]})
    assert response.status_code == 422
    assert response.json["errors"] == {"lines": {"0": {"product_id": ["unknown product"]}}}


def test_transfer_moves_stock_between_locations(shop):
    product = make_product(shop.admin)
    main = shop.default_location()
    back = shop.admin.post("/api/v1/stock/locations", json={"code": "BACK", "name": "Back"}).json
    receive_stock(shop.admin, product["id"], 10, "2.00")
    response = shop.admin.post("/api/v1/stock/transfers", json={
        "from_location_id": main, "to_location_id": back["id"],
        "lines": [{"product_id": product["id"], "quantity": "4"}]})
    assert response.status_code == 201, response.json
    moves = response.json["moves"]
    assert [(m["location_id"], m["quantity"]) for m in moves] == [(main, "-4.000"),
                                                                   (back["id"], "4.000")]
    assert {m["reason"] for m in moves} == {"transfer"}
    assert {m["reference_id"] for m in moves} == {response.json["id"]}
    assert on_hand(shop.admin, product["id"], main) == 6
    assert on_hand(shop.admin, product["id"], back["id"]) == 4
    stock = _stock(shop.admin, product["id"])
    assert (stock["quantity"], stock["average_cost"]) == ("10.000", "2.0000")
    # Too much: 409 and nothing moved.
    response = shop.admin.post("/api/v1/stock/transfers", json={
        "from_location_id": back["id"], "to_location_id": main,
        "lines": [{"product_id": product["id"], "quantity": "5"}]})
    assert response.status_code == 409
    assert on_hand(shop.admin, product["id"], back["id"]) == 4


def test_invalid_transfers_are_422(shop, other_shop):
    product = make_product(shop.admin)
    main = shop.default_location()
    theirs = other_shop.default_location()

    def transfer(**overrides):
        body = {"from_location_id": main, "to_location_id": main,
                "lines": [{"product_id": product["id"], "quantity": "1"}], **overrides}
        return shop.admin.post("/api/v1/stock/transfers", json=body)

    assert transfer().status_code == 422  # same location
    assert transfer(to_location_id=theirs).status_code == 422
    assert transfer(to_location_id=str(uuid.uuid4())).status_code == 422
    assert transfer(lines=[{"product_id": product["id"], "quantity": "0"}]).status_code == 422
    assert transfer(lines=[]).status_code == 422


@pytest.mark.parametrize("move, field", [
    ({"quantity": "1", "reason": "receipt"}, "product_id"),
    ({"quantity": "0", "reason": "receipt"}, "quantity"),
    ({"quantity": "1.0001", "reason": "receipt"}, "quantity"),
    ({"quantity": "1", "reason": "sale"}, "reason"),  # sales come from sales documents
    ({"quantity": "1", "reason": "transfer"}, "reason"),
    ({"quantity": "1", "reason": "receipt", "unit_cost": "-1"}, "unit_cost"),
    ({"quantity": "1", "reason": "receipt", "unit_cost": "0.00001"}, "unit_cost"),
    ({"quantity": "1", "reason": "receipt", "location_id": "here"}, "location_id"),
    ({"quantity": "1e12", "reason": "receipt"}, "quantity"),
])
def test_invalid_moves_are_422(shop, move, field):
    product = make_product(shop.admin)
    if field != "product_id":
        move = {"product_id": product["id"], **move}
    response = shop.admin.post(MOVES, json={"moves": [move]})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]["moves"]["0"]


def test_moves_on_another_tenants_product_or_location_are_422(shop, other_shop):
    theirs = make_product(other_shop.admin)
    mine = make_product(shop.admin)
    response = shop.admin.post(MOVES, json={"moves": [
        {"product_id": theirs["id"], "quantity": "1", "reason": "receipt"}]})
    assert response.status_code == 422
    assert response.json["errors"] == {"moves": {"0": {"product_id": ["unknown product"]}}}
    response = shop.admin.post(MOVES, json={"moves": [
        {"product_id": mine["id"], "quantity": "1", "reason": "receipt",
         "location_id": other_shop.default_location()}]})
    assert response.status_code == 422
    assert response.json["errors"] == {"moves": {"0": {"location_id": ["unknown location"]}}}
    assert shop.admin.get(f"/api/v1/stock/products/{theirs['id']}").status_code == 404


def test_ledger_filters_and_pages(make_shop):
    shop = make_shop()
    a, b = make_product(shop.admin), make_product(shop.admin)
    receive_stock(shop.admin, a["id"], 5)
    receive_stock(shop.admin, b["id"], 5)
    post_moves(shop.admin, {"product_id": a["id"], "quantity": "-1", "reason": "adjustment",
                            "reference_type": "inspection", "reference_id": str(uuid.uuid4())})

    def ledger(query=""):
        response = shop.admin.get(f"{MOVES}?{query}")
        assert response.status_code == 200, response.json
        return response

    everything = ledger().json
    assert [m["quantity"] for m in everything] == ["-1.000", "5.000", "5.000"]  # newest first
    assert ledger("sort=created_at").json[0]["quantity"] == "5.000"
    assert len(ledger(f"product_id={a['id']}").json) == 2
    assert len(ledger("reason=receipt").json) == 2
    assert len(ledger("reference_type=inspection").json) == 1
    since = everything[0]["created_at"]
    assert len(ledger(f"since={since.replace('+', '%2B')}").json) >= 1
    paged = ledger("page_size=2&page=2")
    assert len(paged.json) == 1 and json.loads(paged.headers["X-Pagination"])["total"] == 3
    move = everything[0]
    assert shop.admin.get(f"{MOVES}/{move['id']}").json == move
    for query in ("reason=theft", "since=yesterday", "product_id=1", "sort=quantity"):
        assert shop.admin.get(f"{MOVES}?{query}").status_code == 422, query
    balances = shop.admin.get(f"/api/v1/stock/balances?product_id={a['id']}").json
    assert [b["quantity"] for b in balances] == ["4.000"]
    assert len(shop.admin.get("/api/v1/stock/balances?nonzero=true").json) == 2


def test_other_tenant_roles_credentials_and_module_guard(shop, other_shop, make_tenant):
    theirs = make_product(other_shop.admin)
    their_move = receive_stock(other_shop.admin, theirs["id"], 1)["moves"][0]
    assert shop.admin.get(f"{MOVES}/{their_move['id']}").status_code == 404
    assert shop.admin.get(f"{MOVES}?product_id={theirs['id']}").json == []
    assert shop.admin.get(f"/api/v1/stock/balances?product_id={theirs['id']}").json == []

    product = make_product(shop.admin)
    cashier = shop.tenant.as_role("cashier")
    assert cashier.get("/api/v1/stock/balances").status_code == 200
    assert cashier.get(f"/api/v1/stock/products/{product['id']}").status_code == 200
    assert cashier.get(MOVES).status_code == 403
    for path in (MOVES, "/api/v1/stock/adjustments", "/api/v1/stock/transfers"):
        assert cashier.post(path, json={}).status_code == 403
    routes = [("GET", MOVES), ("POST", MOVES), ("GET", f"{MOVES}/{uuid.uuid4()}"),
              ("GET", "/api/v1/stock/balances"),
              ("GET", f"/api/v1/stock/products/{product['id']}"),
              ("POST", "/api/v1/stock/adjustments"), ("POST", "/api/v1/stock/transfers")]
    assert_needs_credentials(shop.admin, routes)
    assert_module_guard(make_tenant(modules=["catalog"]).as_role("owner"), "stock", routes)
    for query in ("product_id=nope", "location_id=1", "nonzero=perhaps"):
        assert shop.admin.get(f"/api/v1/stock/balances?{query}").status_code == 422, query


def test_admin_api_key_posts_and_is_the_actor(shop, issue_key):
    product = make_product(shop.admin)
    client = shop.tenant.anonymous().with_api_key(issue_key(shop.tenant, "admin"))
    move = post_moves(client, {"product_id": product["id"], "quantity": "2",
                               "reason": "receipt"})["moves"][0]
    assert move["actor"].startswith("api_key:")


def test_idempotency_key_replays_a_posting(shop):
    product = make_product(shop.admin)
    body = {"moves": [{"product_id": product["id"], "quantity": "2", "reason": "receipt"}]}
    headers = {"Idempotency-Key": f"post-{uuid.uuid4()}"}
    first = shop.admin.post(MOVES, json=body, headers=headers)
    again = shop.admin.post(MOVES, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"
    assert on_hand(shop.admin, product["id"]) == 2
    other = {"moves": [{**body["moves"][0], "quantity": "3"}]}
    assert shop.admin.post(MOVES, json=other, headers=headers).status_code == 422
