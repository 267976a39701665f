"""The admin pages of catalog, stock and purchasing through the Flask test client: each page
answers its users, redirects without a session, refuses the roles its API refuses, hides
another tenant's rows (404), answers 403 for a tenant without the module, re-renders invalid
forms with 422 and the field's error (nothing changed), refuses a POST without the CSRF token
(nothing changed), and keeps the domain rules (codes unique, history kept, no stock below
zero, no over-receipt)."""

from __future__ import annotations

import re
import uuid

import pytest

from core.testing.console import ConsoleClient
from core.testing.tenants import PASSWORD
from tests.fixtures.inventory import build_shop


def _code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Admin:
    """A shop with signed-in owner, admin and cashier consoles (one per test module)."""

    def __init__(self, app):
        self.shop = build_shop(app)
        self.api = self.shop.admin
        self.consoles = {}
        for role in ("owner", "admin", "cashier"):
            email = self.shop.tenant.users.get(role) or self.shop.tenant.add_user(role)
            console = ConsoleClient(app, self.shop.tenant.host)
            console.sign_in(email, PASSWORD)
            self.consoles[role] = console

    def product(self, **fields) -> dict:
        body = {"sku": _code("SKU"), "name": "Widget", "sale_price": "9.90", **fields}
        response = self.api.post("/api/v1/catalog/products", json=body)
        assert response.status_code == 201, response.json
        return response.json

    def receive(self, product_id: str, quantity: str = "10", cost: str = "2.00") -> None:
        response = self.api.post("/api/v1/stock/moves", json={"moves": [{
            "product_id": product_id, "quantity": quantity, "unit_cost": cost,
            "reason": "receipt"}]})
        assert response.status_code == 201, response.json

    def on_hand(self, product_id: str) -> str:
        response = self.api.get(f"/api/v1/stock/products/{product_id}")
        assert response.status_code == 200, response.json
        return response.json["quantity"]

    def supplier(self, name: str = "Acme") -> dict:
        response = self.api.post("/api/v1/purchasing/suppliers", json={"name": name})
        assert response.status_code == 201, response.json
        return response.json

    def ordered(self, lines) -> dict:
        supplier = self.supplier()
        response = self.api.post("/api/v1/purchasing/orders", json={
            "supplier_id": supplier["id"], "lines": lines})
        assert response.status_code == 201, response.json
        order = response.json
        placed = self.api.post(f"/api/v1/purchasing/orders/{order['id']}/order")
        assert placed.status_code == 200, placed.json
        return placed.json


@pytest.fixture(scope="module")
def admin(app) -> Admin:
    return Admin(app)


@pytest.fixture(scope="module")
def other(app) -> Admin:
    return Admin(app)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _count(admin: Admin, path: str) -> int:
    response = admin.api.get(path)
    assert response.status_code == 200, response.json
    return int(response.headers["X-Pagination"].split('"total": ')[1].split(",")[0]) \
        if "X-Pagination" in response.headers else len(response.json)


# --------------------------------------------------------------------------- every page


READ_PAGES = ["/catalog/products", "/catalog/categories", "/stock/"]
WRITE_PAGES = ["/catalog/products/new", "/stock/adjustments", "/stock/counts",
               "/stock/transfers", "/purchasing/", "/purchasing/suppliers",
               "/purchasing/suppliers/new", "/purchasing/orders/new"]


@pytest.mark.parametrize("path", READ_PAGES + WRITE_PAGES)
def test_each_page_answers_an_admin_and_redirects_without_a_session(app, admin, path):
    response = admin.consoles["admin"].get(path)
    assert response.status_code == 200, _text(response)[:500]
    assert "<h1>" in _text(response)
    anonymous = ConsoleClient(app, admin.shop.tenant.host).get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", READ_PAGES)
def test_a_cashier_reads_what_the_api_lets_cashiers_read(admin, path):
    response = admin.consoles["cashier"].get(path)
    assert response.status_code == 200
    assert "New product" not in _text(response)


@pytest.mark.parametrize("path", WRITE_PAGES)
def test_a_cashier_is_refused_what_the_api_refuses(admin, path):
    assert admin.consoles["cashier"].get(path).status_code == 403


def test_the_navigation_shows_the_admin_pages_by_role(admin):
    page = _text(admin.consoles["admin"].get("/"))
    for label in ("Products", "Categories", "Stock", "Purchase orders", "Suppliers"):
        assert f">{label}</a>" in page
    cashier = _text(admin.consoles["cashier"].get("/"))
    assert ">Products</a>" in cashier and ">Purchase orders</a>" not in cashier


@pytest.mark.parametrize(("modules", "path"), [
    ((), "/catalog/products"), (("catalog",), "/stock/"),
    (("catalog", "stock"), "/purchasing/suppliers")])
def test_a_module_the_tenant_has_not_enabled_answers_403(make_tenant, console_as, modules,
                                                        path):
    tenant = make_tenant(modules=modules)
    response = console_as(tenant, "owner").get(path)
    assert response.status_code == 403
    assert "is not enabled for this tenant" in _text(response)


# --------------------------------------------------------------------------- catalog


def test_products_search_by_name_sku_and_barcode_and_filter_by_category(admin):
    category = admin.api.post("/api/v1/catalog/categories", json={"name": _code("Drinks")}).json
    cola = admin.product(name="Cola zero", barcode=_code("BC"), category_id=category["id"])
    admin.product(name="Bread")
    console = admin.consoles["admin"]
    for term in ("Cola zero", cola["sku"], cola["barcode"]):
        page = _text(console.get(f"/catalog/products?q={term}"))
        assert cola["sku"] in page and "Bread" not in page
    page = _text(console.get(f"/catalog/products?category_id={category['id']}"))
    assert cola["sku"] in page and "Bread" not in page
    assert console.get("/catalog/products?category_id=nonsense&page=999").status_code == 200


def test_products_are_paginated_by_fifty(admin, app):
    shop = Admin(app)
    for number in range(51):
        shop.product(sku=f"P{number:03d}", name=f"Item {number:03d}")
    console = shop.consoles["admin"]
    first = _text(console.get("/catalog/products"))
    assert "Page 1 of 2" in first and "Item 049" in first and "Item 050" not in first
    second = _text(console.get("/catalog/products?page=2"))
    assert "Item 050" in second and "Item 000" not in second


def test_create_edit_deactivate_and_delete_a_product(admin):
    console = admin.consoles["admin"]
    sku, barcode = _code("NEW"), _code("590")
    response = console.post("/catalog/products/new", {
        "sku": sku, "name": "Green tea", "barcode": barcode, "sale_price": "3.50",
        "tax_rate": "21", "unit": "box"})
    assert response.status_code == 303, _text(response)[:800]
    found = admin.api.get(f"/api/v1/catalog/products?q={barcode}").json
    assert [(p["sku"], p["barcode"], p["sale_price"], p["unit"]) for p in found] == [
        (sku, barcode, "3.50", "box")]
    product_id = found[0]["id"]
    assert f"Product {sku} created." in _text(console.get("/catalog/products"))

    edit = f"/catalog/products/{product_id}"
    assert barcode in _text(console.get(edit))
    saved = console.post(edit, {"sku": sku, "name": "Green tea 20", "barcode": "",
                                "sale_price": "3.70", "tax_rate": "21", "unit": "box",
                                "category_id": "", "description": ""})
    assert saved.status_code == 303, _text(saved)[:800]
    product = admin.api.get(f"/api/v1/catalog/products/{product_id}").json
    assert (product["name"], product["barcode"], product["sale_price"]) == (
        "Green tea 20", None, "3.70")

    assert console.post(f"{edit}/active", {"active": "0"}, csrf_from=edit).status_code == 303
    assert admin.api.get(f"/api/v1/catalog/products/{product_id}").json["active"] is False
    assert console.post(f"{edit}/active", {"active": "1"}, csrf_from=edit).status_code == 303
    assert admin.api.get(f"/api/v1/catalog/products/{product_id}").json["active"] is True

    assert console.post(f"{edit}/delete", csrf_from=edit).status_code == 303
    assert admin.api.get(f"/api/v1/catalog/products/{product_id}").status_code == 404


def test_a_product_with_history_cannot_be_deleted(admin):
    product = admin.product()
    admin.receive(product["id"], "1")
    edit = f"/catalog/products/{product['id']}"
    response = admin.consoles["admin"].post(f"{edit}/delete", csrf_from=edit)
    assert response.status_code == 409
    assert "deactivate" in _text(response)
    assert admin.api.get(f"/api/v1/catalog/products/{product['id']}").status_code == 200


def test_an_invalid_product_form_is_422_with_the_field_errors_and_creates_nothing(admin):
    console = admin.consoles["admin"]
    sku = _code("BAD")
    response = console.post("/catalog/products/new", {"sku": sku, "name": "",
                                                      "sale_price": "-1", "tax_rate": "101"})
    assert response.status_code == 422
    page = _text(response)
    assert 'id="name-error"' in page and 'id="sale_price-error"' in page
    assert 'id="tax_rate-error"' in page and f'value="{sku}"' in page  # input kept
    assert admin.api.get(f"/api/v1/catalog/products?q={sku}").json == []


def test_a_taken_sku_or_barcode_is_refused_at_its_input(admin):
    existing = admin.product(barcode=_code("BC"))
    response = admin.consoles["admin"].post("/catalog/products/new", {
        "sku": existing["sku"], "name": "Copy", "sale_price": "1", "barcode": existing["barcode"]})
    assert response.status_code == 409
    page = _text(response)
    assert "another product has this sku" in page and "another product has this barcode" in page
    assert len(admin.api.get(f"/api/v1/catalog/products?q={existing['sku']}").json) == 1


def test_product_posts_without_csrf_change_nothing(admin):
    console = admin.consoles["admin"]
    sku = _code("CSRF")
    response = console.post("/catalog/products/new", {"sku": sku, "name": "X",
                                                      "sale_price": "1"}, token="")
    assert response.status_code == 403
    assert admin.api.get(f"/api/v1/catalog/products?q={sku}").json == []
    product = admin.product()
    edit = f"/catalog/products/{product['id']}"
    assert console.post(edit, {"name": "Changed"}, token="").status_code == 403
    assert console.post(f"{edit}/delete", token="").status_code == 403
    assert admin.api.get(f"/api/v1/catalog/products/{product['id']}").json["name"] == "Widget"


def test_a_cashier_cannot_write_products(admin):
    product = admin.product()
    cashier = admin.consoles["cashier"]
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"',
                      _text(cashier.get("/catalog/products"))).group(1)
    assert cashier.post("/catalog/products/new", {"sku": _code("C"), "name": "X",
                                                  "sale_price": "1"}, token=token
                        ).status_code == 403
    assert cashier.post(f"/catalog/products/{product['id']}/delete", token=token
                        ).status_code == 403
    assert admin.api.get(f"/api/v1/catalog/products/{product['id']}").status_code == 200


def test_another_tenants_product_and_category_are_not_found(admin, other):
    product = other.product()
    category = other.api.post("/api/v1/catalog/categories", json={"name": _code("C")}).json
    console = admin.consoles["admin"]
    for path in (f"/catalog/products/{product['id']}", f"/catalog/categories/{category['id']}"):
        response = console.get(path)
        assert response.status_code == 404
        assert "not found" in _text(response)
    token_page = "/catalog/products/new"
    for path in (f"/catalog/products/{product['id']}/delete",
                 f"/catalog/products/{product['id']}/active",
                 f"/catalog/categories/{category['id']}/delete"):
        assert console.post(path, {"active": "0"}, csrf_from=token_page).status_code == 404
    assert other.api.get(f"/api/v1/catalog/products/{product['id']}").json["active"] is True
    assert console.get("/catalog/products/not-a-uuid").status_code == 404


def test_categories_tree_create_edit_and_delete(admin):
    console = admin.consoles["admin"]
    root_name = _code("Food")
    assert console.post("/catalog/categories", {"name": root_name},
                        csrf_from="/catalog/categories").status_code == 303
    root = admin.api.get(f"/api/v1/catalog/categories?q={root_name}").json[0]
    assert console.post("/catalog/categories", {"name": "Fruit", "parent_id": root["id"]},
                        csrf_from="/catalog/categories").status_code == 303
    child = admin.api.get(f"/api/v1/catalog/categories?parent_id={root['id']}").json[0]
    console.get("/catalog/categories")  # shows the notice once
    page = _text(console.get("/catalog/categories"))
    assert page.index(root_name) < page.index("Fruit")
    assert 'class="depth-1"' in page

    edit = f"/catalog/categories/{root['id']}"
    cycle = console.post(edit, {"name": root_name, "parent_id": child["id"]})
    assert cycle.status_code == 422
    assert "descendants" in _text(cycle)
    assert admin.api.get(f"/api/v1/catalog/categories/{root['id']}").json["parent_id"] is None

    assert console.post(f"{edit}/delete", csrf_from=edit).status_code == 409  # has a child
    blank = console.post("/catalog/categories", {"name": ""}, csrf_from="/catalog/categories")
    assert blank.status_code == 422 and 'id="name-error"' in _text(blank)

    child_edit = f"/catalog/categories/{child['id']}"
    assert console.post(child_edit, {"name": "Fresh fruit", "parent_id": "",
                                     "description": "daily"}).status_code == 303
    moved = admin.api.get(f"/api/v1/catalog/categories/{child['id']}").json
    assert (moved["name"], moved["parent_id"], moved["description"]) == (
        "Fresh fruit", None, "daily")
    assert console.post(f"{child_edit}/delete", csrf_from=child_edit).status_code == 303
    assert console.post(f"{edit}/delete", csrf_from=edit).status_code == 303
    assert admin.api.get(f"/api/v1/catalog/categories/{root['id']}").status_code == 404


# --------------------------------------------------------------------------- stock


def test_balances_search_and_the_ledger(admin):
    product = admin.product(name="Ledger lamp", barcode=_code("LL"))
    admin.receive(product["id"], "4", "1.50")
    console = admin.consoles["admin"]
    page = _text(console.get(f"/stock/?q={product['barcode']}"))
    assert product["sku"] in page and "4.000" in page and "1 balance" in page
    ledger = _text(console.get(f"/stock/products/{product['id']}"))
    assert "receipt" in ledger and "4.000" in ledger and "1.5000" in ledger
    assert "user:" not in ledger  # the API client's actor is shown by e-mail
    cashier = admin.consoles["cashier"]
    assert product["sku"] in _text(cashier.get(f"/stock/?q={product['sku']}"))
    assert cashier.get(f"/stock/products/{product['id']}").status_code == 403


def test_another_tenants_product_has_no_ledger_here(admin, other):
    product = other.product()
    assert admin.consoles["admin"].get(f"/stock/products/{product['id']}").status_code == 404


def test_an_adjustment_posts_a_move_and_stock_never_goes_below_zero(admin):
    product = admin.product()
    console = admin.consoles["admin"]
    response = console.post("/stock/adjustments", {
        "product_id": product["id"], "reason": "receipt", "quantity": "5", "unit_cost": "2"})
    assert response.status_code == 303, _text(response)[:800]
    assert response.headers["Location"].endswith(f"/stock/products/{product['id']}")
    assert admin.on_hand(product["id"]) == "5.000"
    short = console.post("/stock/adjustments", {
        "product_id": product["id"], "reason": "adjustment", "quantity": "-6"})
    assert short.status_code == 409
    assert "not enough stock" in _text(short)
    assert admin.on_hand(product["id"]) == "5.000"


def test_invalid_or_csrf_less_adjustments_change_nothing(admin, other):
    product = admin.product()
    console = admin.consoles["admin"]
    invalid = console.post("/stock/adjustments", {"product_id": product["id"],
                                                  "reason": "sale", "quantity": "0"})
    assert invalid.status_code == 422
    assert 'id="quantity-error"' in _text(invalid) and 'id="reason-error"' in _text(invalid)
    foreign = console.post("/stock/adjustments", {"product_id": other.product()["id"],
                                                  "reason": "receipt", "quantity": "1"})
    assert foreign.status_code == 422
    assert 'id="product_id-error"' in _text(foreign)
    no_token = console.post("/stock/adjustments", {"product_id": product["id"],
                                                   "reason": "receipt", "quantity": "1"},
                            token="")
    assert no_token.status_code == 403
    assert admin.on_hand(product["id"]) == "0.000"


def test_a_count_sets_balances_to_what_was_counted(admin):
    counted, untouched = admin.product(), admin.product()
    admin.receive(counted["id"], "10")
    console = admin.consoles["admin"]
    invalid = console.post("/stock/counts", {"lines-0-product_id": counted["id"],
                                             "lines-0-counted_quantity": "-1"})
    assert invalid.status_code == 422
    assert 'id="lines-0-counted_quantity-error"' in _text(invalid)
    empty = console.post("/stock/counts", {"note": "nothing"})
    assert empty.status_code == 422 and 'id="lines-error"' in _text(empty)
    assert admin.on_hand(counted["id"]) == "10.000"

    response = console.post("/stock/counts", {
        "lines-0-product_id": "", "lines-0-counted_quantity": "",  # blank rows are skipped
        "lines-1-product_id": counted["id"], "lines-1-counted_quantity": "7",
        "lines-2-product_id": untouched["id"], "lines-2-counted_quantity": "2",
        "lines-2-unit_cost": "1.25", "note": "shelf count"})
    assert response.status_code == 303, _text(response)[:800]
    assert (admin.on_hand(counted["id"]), admin.on_hand(untouched["id"])) == ("7.000", "2.000")


def test_a_transfer_moves_goods_between_locations(admin):
    product = admin.product()
    admin.receive(product["id"], "6")
    main = admin.shop.default_location()
    van = admin.api.post("/api/v1/stock/locations", json={"code": _code("VAN"),
                                                          "name": "Van"}).json
    console = admin.consoles["admin"]
    same = console.post("/stock/transfers", {"from_location_id": main, "to_location_id": main,
                                             "lines-0-product_id": product["id"],
                                             "lines-0-quantity": "1"})
    assert same.status_code == 422 and 'id="to_location_id-error"' in _text(same)
    response = console.post("/stock/transfers", {
        "from_location_id": main, "to_location_id": van["id"],
        "lines-0-product_id": product["id"], "lines-0-quantity": "4"})
    assert response.status_code == 303, _text(response)[:800]
    balances = admin.api.get(f"/api/v1/stock/products/{product['id']}").json["balances"]
    assert {b["location_id"]: b["quantity"] for b in balances} == {main: "2.000",
                                                                   van["id"]: "4.000"}
    too_much = console.post("/stock/transfers", {
        "from_location_id": main, "to_location_id": van["id"],
        "lines-0-product_id": product["id"], "lines-0-quantity": "3"})
    assert too_much.status_code == 409
    assert admin.on_hand(product["id"]) == "6.000"


def test_the_low_stock_tile_counts_active_products_with_nothing_on_hand(app):
    shop = Admin(app)
    stocked, empty = shop.product(), shop.product()
    shop.receive(stocked["id"], "1")
    gone = shop.product()
    shop.receive(gone["id"], "1")
    shop.api.post("/api/v1/stock/moves", json={"moves": [{
        "product_id": gone["id"], "quantity": "-1", "reason": "adjustment"}]})
    page = _text(shop.consoles["cashier"].get("/"))
    assert "Low stock" in page
    assert re.search(r"Active products with none on hand</dt><dd>2</dd>", page), empty


# --------------------------------------------------------------------------- purchasing


def test_suppliers_create_search_edit_and_deactivate(admin, other):
    console = admin.consoles["admin"]
    name = _code("Supply")
    invalid = console.post("/purchasing/suppliers/new", {"name": name, "email": "not-mail"})
    assert invalid.status_code == 422 and 'id="email-error"' in _text(invalid)
    assert admin.api.get(f"/api/v1/purchasing/suppliers?q={name}").json == []
    assert console.post("/purchasing/suppliers/new", {"name": name, "email": "a@b.test"},
                        token="").status_code == 403
    created = console.post("/purchasing/suppliers/new", {"name": name, "email": "a@b.test",
                                                         "phone": "+1 555"})
    assert created.status_code == 303, _text(created)[:800]
    supplier = admin.api.get(f"/api/v1/purchasing/suppliers?q={name}").json[0]
    assert name in _text(console.get(f"/purchasing/suppliers?q={name}"))
    edit = f"/purchasing/suppliers/{supplier['id']}"
    saved = console.post(edit, {"name": name, "email": "", "phone": "+1 556", "active": "0"})
    assert saved.status_code == 303, _text(saved)[:800]
    supplier = admin.api.get(f"/api/v1/purchasing/suppliers/{supplier['id']}").json
    assert (supplier["email"], supplier["phone"], supplier["active"]) == (None, "+1 556", False)

    foreign = other.supplier()
    assert console.get(f"/purchasing/suppliers/{foreign['id']}").status_code == 404
    assert console.post(f"/purchasing/suppliers/{foreign['id']}", {"name": "Mine"},
                        csrf_from="/purchasing/suppliers").status_code == 404
    assert other.api.get(f"/api/v1/purchasing/suppliers/{foreign['id']}").json["name"] == "Acme"


def test_create_a_purchase_order_with_lines_and_place_it(admin, other):
    supplier, product = admin.supplier(), admin.product()
    console = admin.consoles["admin"]
    no_lines = console.post("/purchasing/orders/new", {"supplier_id": supplier["id"]})
    assert no_lines.status_code == 422 and 'id="lines-error"' in _text(no_lines)
    bad_line = console.post("/purchasing/orders/new", {
        "supplier_id": supplier["id"], "lines-0-product_id": product["id"],
        "lines-0-quantity": "0", "lines-0-unit_cost": "1"})
    assert bad_line.status_code == 422
    assert 'id="lines-0-quantity-error"' in _text(bad_line)
    foreign = console.post("/purchasing/orders/new", {
        "supplier_id": supplier["id"], "lines-0-product_id": other.product()["id"],
        "lines-0-quantity": "1", "lines-0-unit_cost": "1"})
    assert foreign.status_code == 422
    assert 'id="lines-0-product_id-error"' in _text(foreign)
    before = len(admin.api.get("/api/v1/purchasing/orders?page_size=100").json)

    response = console.post("/purchasing/orders/new", {
        "supplier_id": supplier["id"], "reference": "REF-1",
        "lines-0-product_id": product["id"], "lines-0-quantity": "3",
        "lines-0-unit_cost": "2.50", "lines-0-tax_rate": "10"})
    assert response.status_code == 303, _text(response)[:800]
    order_id = response.headers["Location"].rsplit("/", 1)[1]
    order = admin.api.get(f"/api/v1/purchasing/orders/{order_id}").json
    assert (order["status"], order["total"], len(order["lines"])) == ("draft", "8.25", 1)
    assert len(admin.api.get("/api/v1/purchasing/orders?page_size=100").json) == before + 1
    detail = f"/purchasing/orders/{order_id}"
    assert "REF-1" in _text(console.get(detail))
    assert f"PO-{order['number']:06d}" in _text(console.get("/purchasing/"))
    assert console.post(f"{detail}/order", csrf_from=detail).status_code == 303
    assert admin.api.get(f"/api/v1/purchasing/orders/{order_id}").json["status"] == "ordered"
    assert console.post(f"{detail}/order", csrf_from=detail).status_code == 409


def test_receive_partially_refuse_over_receipt_then_receive_the_rest(admin):
    product = admin.product()
    order = admin.ordered([{"product_id": product["id"], "quantity": "10",
                            "unit_cost": "2.00"}])
    line_id = order["lines"][0]["id"]
    console = admin.consoles["admin"]
    receive = f"/purchasing/orders/{order['id']}/receive"
    assert 'value="10.000"' in _text(console.get(receive))  # outstanding, prefilled

    assert console.post(receive, {f"quantity-{line_id}": "4"}, token="").status_code == 403
    assert admin.on_hand(product["id"]) == "0.000"
    assert console.post(receive, {f"quantity-{line_id}": "-1"}).status_code == 422
    assert console.post(receive, {f"quantity-{line_id}": ""}).status_code == 422

    partial = console.post(receive, {f"quantity-{line_id}": "4", "note": "first pallet"})
    assert partial.status_code == 303, _text(partial)[:800]
    assert admin.on_hand(product["id"]) == "4.000"
    state = admin.api.get(f"/api/v1/purchasing/orders/{order['id']}").json
    assert (state["status"], state["lines"][0]["received_quantity"]) == (
        "partially_received", "4.000")

    over = console.post(receive, {f"quantity-{line_id}": "7"})
    assert over.status_code == 409
    assert "more than was ordered" in _text(over)
    assert admin.on_hand(product["id"]) == "4.000"

    rest = console.post(receive, {f"quantity-{line_id}": "6"})
    assert rest.status_code == 303
    assert admin.api.get(f"/api/v1/purchasing/orders/{order['id']}").json["status"] == "received"
    assert admin.on_hand(product["id"]) == "10.000"
    detail = _text(console.get(f"/purchasing/orders/{order['id']}"))
    assert "first pallet" in detail and "Receive goods" not in detail
    assert admin.shop.tenant.users["admin"] in detail  # received by, as an e-mail
    assert console.post(receive, {f"quantity-{line_id}": "1"}).status_code == 409


def test_cancel_an_order_and_a_draft_cannot_be_received(admin):
    product = admin.product()
    supplier = admin.supplier()
    draft = admin.api.post("/api/v1/purchasing/orders", json={
        "supplier_id": supplier["id"],
        "lines": [{"product_id": product["id"], "quantity": "1", "unit_cost": "1"}]}).json
    console = admin.consoles["admin"]
    receive = f"/purchasing/orders/{draft['id']}/receive"
    line_id = draft["lines"][0]["id"]
    assert console.post(receive, {f"quantity-{line_id}": "1"}).status_code == 409
    detail = f"/purchasing/orders/{draft['id']}"
    assert console.post(f"{detail}/cancel", csrf_from=detail).status_code == 303
    assert admin.api.get(f"/api/v1/purchasing/orders/{draft['id']}").json["status"] == \
        "cancelled"


def test_another_tenants_order_is_not_found(admin, other):
    product = other.product()
    order = other.ordered([{"product_id": product["id"], "quantity": "2", "unit_cost": "1"}])
    console = admin.consoles["admin"]
    for path in (f"/purchasing/orders/{order['id']}",
                 f"/purchasing/orders/{order['id']}/receive"):
        assert console.get(path).status_code == 404
    line = f"quantity-{order['lines'][0]['id']}"
    for path in (f"/purchasing/orders/{order['id']}/receive",
                 f"/purchasing/orders/{order['id']}/cancel"):
        assert console.post(path, {line: "1"}, csrf_from="/purchasing/").status_code == 404
    assert other.api.get(f"/api/v1/purchasing/orders/{order['id']}").json["status"] == "ordered"
    assert other.on_hand(product["id"]) == "0.000"


def test_a_cashier_cannot_reach_purchasing(admin):
    product = admin.product()
    order = admin.ordered([{"product_id": product["id"], "quantity": "2", "unit_cost": "1"}])
    cashier = admin.consoles["cashier"]
    assert cashier.get(f"/purchasing/orders/{order['id']}").status_code == 403
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"',
                      _text(cashier.get("/"))).group(1)
    line = f"quantity-{order['lines'][0]['id']}"
    assert cashier.post(f"/purchasing/orders/{order['id']}/receive", {line: "1"},
                        token=token).status_code == 403
    assert admin.on_hand(product["id"]) == "0.000"
