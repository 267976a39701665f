"""Purchase orders: drafts with lines and Decimal totals, editing with ETags, ordering,
cancelling, listing; cross-tenant references and every refusal."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.inventory import assert_module_guard, assert_needs_credentials
from tests.fixtures.products import make_product

ORDERS = "/api/v1/purchasing/orders"


@pytest.fixture(scope="module")
def supplier(shop):
    return shop.admin.post("/api/v1/purchasing/suppliers", json={"name": "Main supplier"}).json


def _draft(shop, supplier, *lines, expect=201):
    response = shop.admin.post(ORDERS, json={"supplier_id": supplier["id"], "lines": list(lines)})
    assert response.status_code == expect, response.json
    return response.json


def _line(product, quantity="1", unit_cost="1.00", **extra):
    return {"product_id": product["id"], "quantity": quantity, "unit_cost": unit_cost, **extra}


def test_a_draft_with_totals_in_decimal(shop, supplier):
    pen, ink = make_product(shop.admin), make_product(shop.admin)
    order = _draft(shop, supplier, _line(pen, "3", "0.10", tax_rate="21"),
                   _line(ink, "2.5", "3.33"))
    assert order["status"] == "draft" and order["number"] >= 1
    # 3 x 0.10 = 0.30 (not 0.30000000000000004); tax 21 % of 0.30 = 0.063 -> 0.06
    assert [(line["line_no"], line["line_total"], line["tax_amount"]) for line in order["lines"]] \
        == [(1, "0.30", "0.06"), (2, "8.33", "0.00")]  # 2.5 x 3.33 = 8.325 -> 8.33
    assert (order["subtotal"], order["tax_total"], order["total"]) == ("8.63", "0.06", "8.69")
    assert order["lines"][1]["outstanding_quantity"] == "2.500"
    assert order["created_by"].startswith("user:")
    assert shop.admin.get(f"{ORDERS}/{order['id']}").json == order


def test_numbers_are_sequential_per_tenant(shop, supplier):
    product = make_product(shop.admin)
    first = _draft(shop, supplier, _line(product))
    second = _draft(shop, supplier, _line(product))
    assert second["number"] == first["number"] + 1


def test_edit_a_draft_with_etag(shop, supplier):
    product, other = make_product(shop.admin), make_product(shop.admin)
    order = _draft(shop, supplier, _line(product, "1", "5.00"))
    url = f"{ORDERS}/{order['id']}"
    etag = shop.admin.get(url).headers["ETag"]
    response = shop.admin.patch(url, headers={"If-Match": etag}, json={
        "notes": "urgent", "expected_date": "2026-12-01",
        "lines": [_line(other, "4", "2.50"), _line(product, "1", "1.00")]})
    assert response.status_code == 200, response.json
    assert [line["product_id"] for line in response.json["lines"]] == [other["id"], product["id"]]
    assert response.json["total"] == "11.00" and response.json["expected_date"] == "2026-12-01"
    assert shop.admin.patch(url, json={"notes": "x"}, headers={"If-Match": etag}).status_code == 412


def test_order_then_cancel_and_the_transitions_refused(shop, supplier):
    product = make_product(shop.admin)
    empty = _draft(shop, supplier)
    assert shop.admin.post(f"{ORDERS}/{empty['id']}/order").status_code == 422
    order = _draft(shop, supplier, _line(product))
    ordered = shop.admin.post(f"{ORDERS}/{order['id']}/order")
    assert ordered.status_code == 200 and ordered.json["status"] == "ordered"
    assert ordered.json["ordered_at"]
    assert shop.admin.post(f"{ORDERS}/{order['id']}/order").status_code == 409
    assert shop.admin.patch(f"{ORDERS}/{order['id']}", json={"notes": "late"}).status_code == 409
    cancelled = shop.admin.post(f"{ORDERS}/{order['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert shop.admin.post(f"{ORDERS}/{order['id']}/cancel").status_code == 409
    assert shop.admin.post(f"{ORDERS}/{order['id']}/receipts", json={}).status_code == 409


def test_list_filters_and_sorts(make_shop):
    shop = make_shop()
    supplier = shop.admin.post("/api/v1/purchasing/suppliers", json={"name": "S"}).json
    other = shop.admin.post("/api/v1/purchasing/suppliers", json={"name": "T"}).json
    product = make_product(shop.admin)
    first = _draft(shop, supplier, _line(product, "1", "9.00"))
    second = _draft(shop, other, _line(product, "1", "1.00"))
    shop.admin.post(f"{ORDERS}/{second['id']}/order")

    def numbers(query=""):
        response = shop.admin.get(f"{ORDERS}?{query}")
        assert response.status_code == 200, response.json
        return [o["number"] for o in response.json]

    assert numbers() == [second["number"], first["number"]]
    assert numbers("status=ordered") == [second["number"]]
    assert numbers(f"supplier_id={supplier['id']}") == [first["number"]]
    assert numbers("sort=total") == [second["number"], first["number"]]
    for query in ("status=lost", "sort=supplier_id", "supplier_id=x"):
        assert shop.admin.get(f"{ORDERS}?{query}").status_code == 422


def test_lines_pointing_at_another_tenants_product_are_refused(shop, other_shop, supplier):
    theirs = make_product(other_shop.admin)
    mine = make_product(shop.admin)
    response = shop.admin.post(ORDERS, json={"supplier_id": supplier["id"], "lines": [
        _line(mine), _line(theirs)]})
    assert response.status_code == 422
    assert response.json["errors"] == {"lines": {"1": {"product_id": ["unknown product"]}}}
    order = _draft(shop, supplier, _line(mine))
    response = shop.admin.patch(f"{ORDERS}/{order['id']}", json={"lines": [_line(theirs)]})
    assert response.status_code == 422
    assert shop.admin.get(f"{ORDERS}/{order['id']}").json["lines"][0]["product_id"] == mine["id"]


def test_suppliers_must_be_this_tenants_and_active(shop, other_shop, supplier):
    product = make_product(shop.admin)
    theirs = other_shop.admin.post("/api/v1/purchasing/suppliers", json={"name": "T"}).json
    for supplier_id in (theirs["id"], str(uuid.uuid4())):
        response = shop.admin.post(ORDERS, json={"supplier_id": supplier_id,
                                                 "lines": [_line(product)]})
        assert response.status_code == 422
        assert response.json["errors"] == {"supplier_id": ["no such supplier"]}
    retired = shop.admin.post("/api/v1/purchasing/suppliers",
                              json={"name": "Retired", "active": False}).json
    response = shop.admin.post(ORDERS, json={"supplier_id": retired["id"]})
    assert response.status_code == 422
    inactive = make_product(shop.admin, active=False)
    response = shop.admin.post(ORDERS, json={"supplier_id": supplier["id"],
                                             "lines": [_line(inactive)]})
    assert response.json["errors"] == {"lines": {"0": {"product_id": ["product is inactive"]}}}


@pytest.mark.parametrize("line, field", [
    ({"quantity": "0", "unit_cost": "1"}, "quantity"),
    ({"quantity": "-1", "unit_cost": "1"}, "quantity"),
    ({"quantity": "1", "unit_cost": "-0.01"}, "unit_cost"),
    ({"quantity": "1", "unit_cost": "0.001"}, "unit_cost"),
    ({"quantity": "1", "unit_cost": "1", "tax_rate": "150"}, "tax_rate"),
    ({"quantity": "1"}, "unit_cost"),
    ({"quantity": "1", "unit_cost": "1", "line_total": "5"}, "line_total"),
])
def test_invalid_lines_are_422(shop, supplier, line, field):
    product = make_product(shop.admin)
    response = shop.admin.post(ORDERS, json={"supplier_id": supplier["id"],
                                             "lines": [{"product_id": product["id"], **line}]})
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]["lines"]["0"]


def test_a_total_too_large_for_money_is_422_not_500(shop, supplier):
    product = make_product(shop.admin)
    response = shop.admin.post(ORDERS, json={"supplier_id": supplier["id"], "lines": [
        _line(product, "99999999999.999", "999999999999.99")]})
    assert response.status_code == 422


def test_other_tenant_roles_credentials_and_module_guard(shop, other_shop, supplier,
                                                          make_tenant):
    product = make_product(other_shop.admin)
    their_supplier = other_shop.admin.post("/api/v1/purchasing/suppliers",
                                           json={"name": "X"}).json
    theirs = other_shop.admin.post(ORDERS, json={"supplier_id": their_supplier["id"], "lines": [
        _line(product)]}).json
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/order"), ("POST", "/cancel"),
                           ("GET", "/receipts"), ("POST", "/receipts")):
        response = shop.admin.open(method, f"{ORDERS}/{theirs['id']}{suffix}", json={})
        assert response.status_code == 404, (method, suffix)
    assert other_shop.admin.get(f"{ORDERS}/{theirs['id']}").json["status"] == "draft"

    mine = _draft(shop, supplier, _line(make_product(shop.admin)))
    cashier = shop.tenant.as_role("cashier")
    routes = [("GET", ORDERS), ("POST", ORDERS), ("GET", f"{ORDERS}/{mine['id']}"),
              ("PATCH", f"{ORDERS}/{mine['id']}"), ("POST", f"{ORDERS}/{mine['id']}/order"),
              ("POST", f"{ORDERS}/{mine['id']}/cancel"),
              ("GET", f"{ORDERS}/{mine['id']}/receipts"),
              ("POST", f"{ORDERS}/{mine['id']}/receipts")]
    for method, path in routes:
        assert cashier.open(method, path, json={}).status_code == 403, (method, path)
    assert_needs_credentials(shop.admin, routes)
    without = make_tenant(modules=["catalog", "stock"]).as_role("owner")
    assert_module_guard(without, "purchasing", routes)
    assert shop.admin.get(f"{ORDERS}/{mine['id']}").json["status"] == "draft"
