"""Products: create, read, list (search, filters, sorting, pages), update with ETags,
delete or deactivate, and every refusal (401, 403, 404 across tenants, 409, 412, 422)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.fixtures.inventory import assert_module_guard, assert_needs_credentials
from tests.fixtures.products import make_product, receive_stock

PRODUCTS = "/api/v1/catalog/products"


def test_create_and_get_a_product(shop):
    created = make_product(shop.admin, sku="A-1", barcode="4006381333931", name="Pencil",
                           sale_price="1.50", tax_rate="21.00", unit="box")
    assert created["sale_price"] == "1.50" and created["tax_rate"] == "21.00"
    assert created["active"] is True and created["unit"] == "box"
    response = shop.admin.get(f"{PRODUCTS}/{created['id']}")
    assert response.status_code == 200
    assert response.json == created
    assert response.headers.get("ETag")


def test_money_is_a_string_and_never_rounded(shop):
    product = make_product(shop.admin, sale_price=2)
    assert product["sale_price"] == "2.00"  # as stored: numeric(14, 2)
    response = shop.admin.post(PRODUCTS, json={"sku": "R-1", "name": "x", "sale_price": "1.005"})
    assert response.status_code == 422
    assert "sale_price" in response.json["errors"]["json"]


@pytest.mark.parametrize("body, field", [
    ({"name": "no sku", "sale_price": "1"}, "sku"),
    ({"sku": "S", "sale_price": "1"}, "name"),
    ({"sku": "S", "name": "n"}, "sale_price"),
    ({"sku": " padded", "name": "n", "sale_price": "1"}, "sku"),
    ({"sku": "S", "name": "n", "sale_price": "-1"}, "sale_price"),
    ({"sku": "S", "name": "n", "sale_price": "1e20"}, "sale_price"),
    ({"sku": "S", "name": "n", "sale_price": "NaN"}, "sale_price"),
    ({"sku": "S", "name": "n", "sale_price": "1", "tax_rate": "101"}, "tax_rate"),
    ({"sku": "S", "name": "n", "sale_price": "1", "category_id": "nope"}, "category_id"),
    ({"sku": "S" * 65, "name": "n", "sale_price": "1"}, "sku"),
    ({"sku": "S", "name": "n", "sale_price": "1", "surprise": 1}, "surprise"),
])
def test_invalid_product_is_422_with_the_field(shop, body, field):
    response = shop.admin.post(PRODUCTS, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_unknown_or_foreign_category_is_422(shop, other_shop):
    foreign = other_shop.admin.post("/api/v1/catalog/categories", json={"name": "Theirs"}).json
    for category_id in (str(uuid.uuid4()), foreign["id"]):
        response = shop.admin.post(PRODUCTS, json={"sku": "C-1", "name": "n", "sale_price": "1",
                                                   "category_id": category_id})
        assert response.status_code == 422
        assert response.json["errors"] == {"category_id": ["no such category"]}


def test_sku_and_barcode_are_unique_per_tenant(shop, other_shop):
    make_product(shop.admin, sku="DUP", barcode="111")
    response = shop.admin.post(PRODUCTS, json={"sku": "DUP", "name": "n", "sale_price": "1"})
    assert response.status_code == 409 and "sku" in response.json["errors"]
    response = shop.admin.post(PRODUCTS, json={"sku": "OTHER", "barcode": "111", "name": "n",
                                               "sale_price": "1"})
    assert response.status_code == 409 and "barcode" in response.json["errors"]
    # Another tenant may use the same codes, and many products may have no barcode.
    make_product(other_shop.admin, sku="DUP", barcode="111")
    make_product(shop.admin, barcode=None)
    make_product(shop.admin, barcode=None)


def test_list_searches_filters_sorts_and_pages(make_shop):
    shop = make_shop()
    category = shop.admin.post("/api/v1/catalog/categories", json={"name": "Pens"}).json
    make_product(shop.admin, sku="PEN-BLUE", name="Blue pen", sale_price="2.00",
                 category_id=category["id"])
    make_product(shop.admin, sku="PEN-RED", name="Red pen", sale_price="1.00",
                 category_id=category["id"], barcode="9990001")
    make_product(shop.admin, sku="INK-1", name="Ink 100%_pure", sale_price="3.00", active=False)

    def skus(query):
        response = shop.admin.get(f"{PRODUCTS}?{query}")
        assert response.status_code == 200, response.json
        return [p["sku"] for p in response.json]

    assert skus("q=pen") == ["PEN-BLUE", "PEN-RED"]
    assert skus("q=9990001") == ["PEN-RED"]
    assert skus("q=ink-") == ["INK-1"]
    assert skus("q=100%25_") == ["INK-1"]  # % and _ are literal, not wildcards
    assert skus("q=0%25") == ["INK-1"]
    assert skus(f"category_id={category['id']}&sort=-sale_price") == ["PEN-BLUE", "PEN-RED"]
    assert skus("active=false") == ["INK-1"]
    assert skus("sort=sale_price") == ["PEN-RED", "PEN-BLUE", "INK-1"]
    response = shop.admin.get(f"{PRODUCTS}?page=2&page_size=2&sort=sku")
    assert [p["sku"] for p in response.json] == ["PEN-RED"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3


@pytest.mark.parametrize("query", ["sort=password_hash", "sort=tenant_id", "page_size=100000",
                                   "active=maybe", "category_id=42", "page=0"])
def test_bad_list_arguments_are_422(shop, query):
    assert shop.admin.get(f"{PRODUCTS}?{query}").status_code == 422


def test_update_with_etag(shop):
    product = make_product(shop.admin, name="Old")
    url = f"{PRODUCTS}/{product['id']}"
    etag = shop.admin.get(url).headers["ETag"]
    response = shop.admin.patch(url, json={"name": "New"}, headers={"If-Match": etag})
    assert response.status_code == 200, response.json
    assert response.json["name"] == "New"
    assert response.headers["ETag"] != etag
    # The old ETag is stale now.
    stale = shop.admin.patch(url, json={"name": "Newer"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert shop.admin.get(url).json["name"] == "New"
    # Without If-Match the update is unconditional.
    assert shop.admin.patch(url, json={"sale_price": "5.00"}).json["sale_price"] == "5.00"


def test_update_refuses_taken_codes_and_bad_values(shop):
    first = make_product(shop.admin, sku="FIRST")
    second = make_product(shop.admin)
    url = f"{PRODUCTS}/{second['id']}"
    assert shop.admin.patch(url, json={"sku": "FIRST"}).status_code == 409
    assert shop.admin.patch(url, json={"sale_price": "abc"}).status_code == 422
    assert shop.admin.patch(url, json={"id": first["id"]}).status_code == 422
    assert shop.admin.patch(url, json={"category_id": str(uuid.uuid4())}).status_code == 422
    # Re-sending its own SKU is not a conflict.
    assert shop.admin.patch(f"{PRODUCTS}/{first['id']}", json={"sku": "FIRST"}).status_code == 200


def test_deactivate_and_delete(shop):
    unused = make_product(shop.admin)
    assert shop.admin.delete(f"{PRODUCTS}/{unused['id']}").status_code == 204
    assert shop.admin.get(f"{PRODUCTS}/{unused['id']}").status_code == 404

    stocked = make_product(shop.admin)
    receive_stock(shop.admin, stocked["id"], 5)
    response = shop.admin.delete(f"{PRODUCTS}/{stocked['id']}")
    assert response.status_code == 409
    assert "deactivate" in response.json["message"]
    response = shop.admin.patch(f"{PRODUCTS}/{stocked['id']}", json={"active": False})
    assert response.status_code == 200 and response.json["active"] is False
    assert shop.admin.get(f"{PRODUCTS}/{stocked['id']}").status_code == 200


def test_delete_with_stale_etag_is_412(shop):
    product = make_product(shop.admin)
    url = f"{PRODUCTS}/{product['id']}"
    response = shop.admin.delete(url, headers={"If-Match": '"not-the-etag"'})
    assert response.status_code == 412
    assert shop.admin.get(url).status_code == 200


def test_another_tenants_product_is_404(shop, other_shop):
    theirs = make_product(other_shop.admin)
    url = f"{PRODUCTS}/{theirs['id']}"
    assert shop.admin.get(url).status_code == 404
    assert shop.admin.patch(url, json={"name": "mine"}).status_code == 404
    assert shop.admin.delete(url).status_code == 404
    assert theirs["sku"] not in [p["sku"] for p in shop.admin.get(PRODUCTS).json]
    assert other_shop.admin.get(url).json["name"] == theirs["name"]


def test_roles(shop):
    product = make_product(shop.admin)
    url = f"{PRODUCTS}/{product['id']}"
    cashier = shop.tenant.as_role("cashier")
    assert cashier.get(PRODUCTS).status_code == 200
    assert cashier.get(url).status_code == 200
    assert cashier.post(PRODUCTS, json={"sku": "X", "name": "x", "sale_price": "1"}) \
        .status_code == 403
    assert cashier.patch(url, json={"name": "x"}).status_code == 403
    assert cashier.delete(url).status_code == 403
    owner = shop.tenant.as_role("owner")
    assert owner.patch(url, json={"name": "by owner"}).status_code == 200


def test_api_keys(shop, issue_key):
    admin_key = shop.tenant.anonymous().with_api_key(issue_key(shop.tenant, "admin"))
    user_key = shop.tenant.anonymous().with_api_key(issue_key(shop.tenant, "user"))
    created = admin_key.post(PRODUCTS, json={"sku": "KEY-1", "name": "By key",
                                             "sale_price": "1"})
    assert created.status_code == 201, created.json
    assert user_key.post(PRODUCTS, json={"sku": "KEY-2", "name": "x", "sale_price": "1"}) \
        .status_code == 403


def test_credentials_and_module_guard(shop, make_tenant):
    product = make_product(shop.admin)
    routes = [("GET", PRODUCTS), ("POST", PRODUCTS), ("GET", f"{PRODUCTS}/{product['id']}"),
              ("PATCH", f"{PRODUCTS}/{product['id']}"), ("DELETE", f"{PRODUCTS}/{product['id']}")]
    assert_needs_credentials(shop.admin, routes)
    assert_module_guard(make_tenant().as_role("owner"), "catalog", routes)
    assert shop.admin.get(f"{PRODUCTS}/{product['id']}").status_code == 200


def test_huge_pages_and_odd_searches_are_not_errors(shop):
    for query in ("page=100000000000000000000", "q=%00", "q=" + "%" * 50, "q=%27%3B--"):
        response = shop.admin.get(f"{PRODUCTS}?{query}")
        assert response.status_code in (200, 422), (query, response.json)
