"""Concurrent postings: no lost update, no balance below zero, no deadlock surfacing as an
error. Each thread has its own test client (a Flask test client is not thread-safe); the app,
its engine and the database are shared, as under a threaded server."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest

from core import create_app
from core.testing.app import HostClient, app_config
from tests.fixtures.products import make_product, on_hand, receive_stock


@pytest.fixture(scope="module")
def served(app, database):
    """An app on the session's database with the production cache TTL.

    The test app's TTL of 0 makes every request re-read the schema state on a second pooled
    connection while it holds its own; 20 requests at once would then wait on each other for
    the pool (20 connections) instead of on the rows this module is about.
    """
    served_app = create_app(app_config(database, TENANT_CACHE_TTL=60))
    served_app.test_client().get("/readyz")
    return served_app


def _in_parallel(app, host: str, token: str, requests: list[tuple[str, dict]]) -> list:
    """Send each (path, body) POST from its own thread, all released at once."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def worker(index: int, path: str, body: dict) -> None:
        client = HostClient(app.test_client(), host, token=token)
        barrier.wait()
        try:
            response = client.post(path, json=body)
            results[index] = (response.status_code, response.json)
        except Exception as exc:  # noqa: BLE001 - a crash is a result to report, not a hang
            results[index] = (0, repr(exc))

    threads = [threading.Thread(target=worker, args=(i, path, body))
               for i, (path, body) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_takers_of_one_unit_from_ten(served, make_shop):
    shop = make_shop()
    product = make_product(shop.admin)
    receive_stock(shop.admin, product["id"], 10)
    take_one = {"moves": [{"product_id": product["id"], "quantity": "-1",
                           "reason": "adjustment"}]}
    results = _in_parallel(served, shop.tenant.host, shop.admin.token,
                           [("/api/v1/stock/moves", take_one)] * 20)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 409: 10}, results
    assert all(body["message"].startswith("not enough stock")
               for status, body in results if status == 409)
    assert on_hand(shop.admin, product["id"]) == 0
    ledger = shop.admin.get(f"/api/v1/stock/moves?product_id={product['id']}&page_size=50").json
    assert sum(Decimal(m["quantity"]) for m in ledger) == 0
    assert len(ledger) == 11


def test_crossing_multi_line_postings_do_not_deadlock(served, make_shop):
    """Documents naming the same products in opposite orders, and transfers in opposite
    directions, all at once: every one succeeds (there is stock for all of them)."""
    shop = make_shop()
    main = shop.default_location()
    back = shop.admin.post("/api/v1/stock/locations", json={"code": "B", "name": "B"}).json["id"]
    first, second = make_product(shop.admin), make_product(shop.admin)
    for product in (first, second):
        for location in (main, back):
            receive_stock(shop.admin, product["id"], 100, location_id=location)

    def posting(a, b):
        return ("/api/v1/stock/moves", {"moves": [
            {"product_id": a["id"], "quantity": "-1", "reason": "adjustment",
             "location_id": main},
            {"product_id": b["id"], "quantity": "-1", "reason": "adjustment",
             "location_id": back}]})

    def transfer(src, dst):
        lines = [{"product_id": second["id"], "quantity": "1"},
                 {"product_id": first["id"], "quantity": "1"}]
        return ("/api/v1/stock/transfers",
                {"from_location_id": src, "to_location_id": dst, "lines": lines})

    requests = [posting(first, second), posting(second, first), transfer(main, back),
                transfer(back, main)] * 4
    results = _in_parallel(served, shop.tenant.host, shop.admin.token, requests)
    assert [status for status, _ in results] == [201] * len(requests), results
    # 8 postings took 1 of each product from each location: 4 from main and 4 from back
    # per product; transfers cancel out.
    for product in (first, second):
        assert on_hand(shop.admin, product["id"], main) == 96
        assert on_hand(shop.admin, product["id"], back) == 96


def test_first_postings_of_new_products_in_crossing_orders(served, make_shop):
    """Products that never had stock have no cost row yet: each posting creates the rows it
    needs (one statement) before it locks them. Postings naming the same new products in
    opposite orders, all at once, still all succeed and every unit is counted."""
    shop = make_shop()
    products = [make_product(shop.admin) for _ in range(3)]

    def receipt(order):
        return ("/api/v1/stock/moves", {"moves": [
            {"product_id": products[i]["id"], "quantity": "1", "reason": "receipt",
             "unit_cost": "2.00"} for i in order]})

    requests = [receipt((0, 1, 2)), receipt((2, 1, 0)), receipt((1, 2, 0))] * 4
    results = _in_parallel(served, shop.tenant.host, shop.admin.token, requests)
    assert [status for status, _ in results] == [201] * len(requests), results
    for product in products:
        assert on_hand(shop.admin, product["id"]) == 12
