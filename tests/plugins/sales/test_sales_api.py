"""Sales over HTTP: customers, orders (pricing, life cycle, fulfilment through the stock hook,
returns), idempotency, append-only posted documents, roles, tenants and the module toggle."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import psycopg
import pytest

from core.app_state import app_state
from core.plugins import hookimpl
from tests.fixtures.commerce import moves_of
from tests.fixtures.products import make_product, on_hand, receive_stock


@pytest.fixture
def sales_tenant(make_tenant):
    return make_tenant(modules=["sales", "stock"])


@pytest.fixture
def cashier(sales_tenant):
    return sales_tenant.as_role("cashier")


@pytest.fixture
def admin(sales_tenant):
    return sales_tenant.as_role("admin")


@pytest.fixture
def products(admin):
    """Two products: 10.00 at 21 % tax and 2.50 tax-free, with 100 of each in stock."""
    made = [make_product(admin, sale_price="10.00", tax_rate="21", name="Lamp"),
            make_product(admin, sale_price="2.50", name="Bulb")]
    for product in made:
        receive_stock(admin, product["id"], "100")
    return made


class SaleRecorder:
    """A plugin that listens to the sales hookspec (what a loyalty or billing plugin does)."""

    def __init__(self):
        self.sales = []

    @hookimpl
    def tenantry_sales_sale_completed(self, tenant_id, sale, actor):
        self.sales.append((tenant_id, sale, actor))


@pytest.fixture
def recorder(app):
    plugin = SaleRecorder()
    pm = app_state(app).registry.pm
    pm.register(plugin, name=f"recorder-{uuid.uuid4().hex}")
    yield plugin
    pm.unregister(plugin)


def _order(client, products, **extra):
    body = {"lines": [{"product_id": products[0]["id"], "quantity": "2",
                       "discount": {"kind": "percent", "value": "10"}},
                      {"product_id": products[1]["id"], "quantity": "3"}], **extra}
    response = client.post("/api/v1/sales/orders", json=body)
    assert response.status_code == 201, response.json
    return response.json


# --------------------------------------------------------------------------- customers


def test_customer_crud(cashier):
    created = cashier.post("/api/v1/sales/customers", json={"name": "Ada", "email": "a@x.test"})
    assert created.status_code == 201, created.json
    customer_id = created.json["id"]
    assert cashier.get(f"/api/v1/sales/customers/{customer_id}").json["name"] == "Ada"
    patched = cashier.patch(f"/api/v1/sales/customers/{customer_id}", json={"active": False})
    assert patched.status_code == 200 and patched.json["active"] is False
    listed = cashier.get("/api/v1/sales/customers?active=false").json
    assert [c["id"] for c in listed] == [customer_id]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 201},
                                  {"name": "A", "email": "not-an-email"}])
def test_customer_invalid_is_422(cashier, body):
    assert cashier.post("/api/v1/sales/customers", json=body).status_code == 422


def test_another_tenants_customer_is_404(cashier, make_tenant):
    other = make_tenant(modules=["sales"]).as_role("owner")
    theirs = other.post("/api/v1/sales/customers", json={"name": "Theirs"}).json["id"]
    assert cashier.get(f"/api/v1/sales/customers/{theirs}").status_code == 404
    assert cashier.patch(f"/api/v1/sales/customers/{theirs}",
                         json={"name": "Mine"}).status_code == 404


# --------------------------------------------------------------------------- orders


def test_create_order_prices_lines_by_hand_computation(cashier, products):
    order = _order(cashier, products, discount={"kind": "amount", "value": "1.00"})
    lamp, bulb = order["lines"]
    # Lamp: 2 x 10.00 = 20.00, -10 % = 18.00; Bulb: 3 x 2.50 = 7.50. Order discount 1.00
    # spread 18.00 : 7.50 -> 0.71 and 0.29; Lamp taxable 17.29, tax 21 % = 3.6309 -> 3.63.
    assert (lamp["gross"], lamp["line_discount"], lamp["order_discount"]) == (
        "20.00", "2.00", "0.71")
    assert (lamp["tax"], lamp["total"], lamp["tax_rate"]) == ("3.63", "20.92", "21.00")
    assert (bulb["order_discount"], bulb["tax"], bulb["total"]) == ("0.29", "0.00", "7.21")
    assert (order["subtotal"], order["discount_total"], order["tax_total"], order["total"]) == (
        "27.50", "3.00", "3.63", "28.13")
    assert order["status"] == "draft" and order["number"] >= 1
    assert lamp["unit_price"] == "10.00" and lamp["description"] == "Lamp"


def test_order_numbers_are_sequential_per_tenant(cashier, products):
    first, second = _order(cashier, products), _order(cashier, products)
    assert second["number"] == first["number"] + 1


@pytest.mark.parametrize("line, field", [
    ({"quantity": "1"}, "product_id"),
    ({"product_id": "not-a-uuid", "quantity": "1"}, "product_id"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "-1"}, "quantity"),
    ({"quantity": "1.0001"}, "quantity"),
    ({"quantity": "1", "unit_price": "-1"}, "unit_price"),
    ({"quantity": "1", "unit_price": "1.001"}, "unit_price"),
    ({"quantity": "1", "discount": {"kind": "percent", "value": "101"}}, "value"),
    ({"quantity": "1", "discount": {"kind": "gift", "value": "1"}}, "kind"),
    ({"quantity": "1", "discount": {"kind": "amount", "value": "99"}}, "discount"),
    ({"quantity": "99999999999999"}, "quantity"),
])
def test_invalid_lines_are_422(cashier, products, line, field):
    if field != "product_id":
        line = {"product_id": products[0]["id"], **line}
    response = cashier.post("/api/v1/sales/orders", json={"lines": [line]})
    assert response.status_code == 422, response.json
    assert field in str(response.json.get("errors"))


def test_invalid_orders_are_422(cashier, products):
    assert cashier.post("/api/v1/sales/orders", json={"lines": []}).status_code == 422
    assert cashier.post("/api/v1/sales/orders", json={}).status_code == 422
    assert cashier.post("/api/v1/sales/orders", data="{", content_type="application/json"
                        ).status_code in (400, 422)
    unknown = cashier.post("/api/v1/sales/orders", json={
        "customer_id": str(uuid.uuid4()),
        "lines": [{"product_id": products[0]["id"], "quantity": "1"}]})
    assert unknown.status_code == 422 and "customer_id" in unknown.json["errors"]


def test_another_tenants_product_in_a_line_is_422_not_500(cashier, products, make_tenant):
    other_admin = make_tenant(modules=["catalog"]).as_role("admin")
    theirs = make_product(other_admin, sale_price="1.00")
    response = cashier.post("/api/v1/sales/orders", json={"lines": [
        {"product_id": products[0]["id"], "quantity": "1"},
        {"product_id": theirs["id"], "quantity": "1"}]})
    assert response.status_code == 422
    assert response.json["errors"] == {"lines": {"1": {"product_id": ["unknown product"]}}}


def test_inactive_product_is_422(cashier, admin, products):
    admin.patch(f"/api/v1/catalog/products/{products[1]['id']}", json={"active": False})
    response = cashier.post("/api/v1/sales/orders", json={"lines": [
        {"product_id": products[1]["id"], "quantity": "1"}]})
    assert response.status_code == 422
    assert response.json["message"] == "invalid order lines"
    assert response.json["errors"] == {"lines": {"0": {"product_id": ["product is inactive"]}}}


def test_edit_draft_reprices_and_confirmed_orders_are_frozen(cashier, products):
    order = _order(cashier, products)
    url = f"/api/v1/sales/orders/{order['id']}"
    edited = cashier.patch(url, json={"lines": [{"product_id": products[1]["id"],
                                                 "quantity": "4"}]})
    assert edited.status_code == 200, edited.json
    assert (edited.json["total"], len(edited.json["lines"])) == ("10.00", 1)
    discounted = cashier.patch(url, json={"discount": {"kind": "percent", "value": "50"}})
    assert discounted.json["total"] == "5.00"
    assert cashier.post(f"{url}/confirm").status_code == 200
    assert cashier.patch(url, json={"notes": "late"}).status_code == 409
    assert cashier.post(f"{url}/confirm").status_code == 409


def test_etag_on_orders(cashier, products):
    order = _order(cashier, products)
    url = f"/api/v1/sales/orders/{order['id']}"
    stale = cashier.patch(url, json={"notes": "x"}, headers={"If-Match": '"stale"'})
    assert stale.status_code == 412


def test_fulfil_posts_sale_moves_and_fires_the_hook(sales_tenant, cashier, admin, products,
                                                    recorder, admin_connection):
    order = _order(cashier, products)
    url = f"/api/v1/sales/orders/{order['id']}"
    assert cashier.post(f"{url}/fulfil").status_code == 409  # a draft: confirm first
    cashier.post(f"{url}/confirm")
    fulfilled = cashier.post(f"{url}/fulfil")
    assert fulfilled.status_code == 200, fulfilled.json
    assert fulfilled.json["status"] == "fulfilled" and fulfilled.json["fulfilled_at"]
    assert moves_of(admin_connection, sales_tenant.id, order["id"]) == [
        ("sale", D("-3.000")), ("sale", D("-2.000"))]
    assert on_hand(admin, products[0]["id"]) == D("98")
    assert on_hand(admin, products[1]["id"]) == D("97")
    [(tenant_id, sale, actor)] = recorder.sales
    assert tenant_id == sales_tenant.id and actor.startswith("user:")
    assert sale["source"] == "sales_order" and sale["total"] == D(order["total"])
    assert cashier.post(f"{url}/fulfil").status_code == 409  # once only
    assert cashier.post(f"{url}/cancel").status_code == 409


def test_fulfil_without_enough_stock_is_409_and_changes_nothing(sales_tenant, cashier, admin,
                                                                products, admin_connection):
    response = cashier.post("/api/v1/sales/orders", json={"lines": [
        {"product_id": products[0]["id"], "quantity": "101"}]})
    url = f"/api/v1/sales/orders/{response.json['id']}"
    cashier.post(f"{url}/confirm")
    assert cashier.post(f"{url}/fulfil").status_code == 409
    assert cashier.get(url).json["status"] == "confirmed"
    assert on_hand(admin, products[0]["id"]) == D("100")


def test_fulfil_works_without_the_stock_module(make_tenant, recorder):
    tenant = make_tenant(modules=["sales"])
    product = make_product(tenant.as_role("admin"), sale_price="3.00")
    cashier = tenant.as_role("cashier")
    order = cashier.post("/api/v1/sales/orders", json={"lines": [
        {"product_id": product["id"], "quantity": "2"}]}).json
    cashier.post(f"/api/v1/sales/orders/{order['id']}/confirm")
    fulfilled = cashier.post(f"/api/v1/sales/orders/{order['id']}/fulfil")
    assert fulfilled.status_code == 200, fulfilled.json
    assert len(recorder.sales) == 1


def test_returns_post_compensating_moves_and_refund_exactly(sales_tenant, cashier, admin, products,
                                                            admin_connection):
    order = _order(cashier, products)
    url = f"/api/v1/sales/orders/{order['id']}"
    lamp_line = order["lines"][0]
    assert cashier.post(f"{url}/returns", json={"lines": [
        {"order_line_id": lamp_line["id"], "quantity": "1"}]}).status_code == 409  # not sold
    cashier.post(f"{url}/confirm")
    cashier.post(f"{url}/fulfil")
    first = cashier.post(f"{url}/returns", json={"reason": "broken", "lines": [
        {"order_line_id": lamp_line["id"], "quantity": "1"}]})
    assert first.status_code == 201, first.json
    second = cashier.post(f"{url}/returns", json={"lines": [
        {"order_line_id": lamp_line["id"], "quantity": "1"}]})
    assert D(first.json["total"]) + D(second.json["total"]) == D(lamp_line["total"])
    too_many = cashier.post(f"{url}/returns", json={"lines": [
        {"order_line_id": lamp_line["id"], "quantity": "1"}]})
    assert too_many.status_code == 422
    assert moves_of(admin_connection, sales_tenant.id, first.json["id"]) == [("return", D("1.000"))]
    assert on_hand(admin, products[0]["id"]) == D("100")
    listed = cashier.get(f"{url}/returns").json
    assert {r["id"] for r in listed} == {first.json["id"], second.json["id"]}
    assert cashier.get(f"/api/v1/sales/returns/{first.json['id']}").json["reason"] == "broken"
    foreign = cashier.post(f"{url}/returns", json={"lines": [
        {"order_line_id": str(uuid.uuid4()), "quantity": "1"}]})
    assert foreign.status_code == 422


def test_posted_documents_are_refused_changes_by_the_database(cashier, products,
                                                              admin_connection):
    order = _order(cashier, products)
    url = f"/api/v1/sales/orders/{order['id']}"
    cashier.post(f"{url}/confirm")
    cashier.post(f"{url}/fulfil")
    returned = cashier.post(f"{url}/returns", json={"lines": [
        {"order_line_id": order["lines"][1]["id"], "quantity": "1"}]}).json
    for statement in (
            "UPDATE sales_orders SET notes = 'edited' WHERE id = %s",
            "DELETE FROM sales_orders WHERE id = %s",
            "UPDATE sales_order_lines SET quantity = 1 WHERE order_id = %s",
            "DELETE FROM sales_returns WHERE id = %s",
            "UPDATE sales_return_lines SET quantity = 0.5 WHERE return_id = %s"):
        target = returned["id"] if "return" in statement else order["id"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            admin_connection.execute(statement, (target,))  # even a superuser


def test_create_order_idempotency_key_replays_one_order(sales_tenant, cashier, products,
                                                        admin_connection):
    body = {"lines": [{"product_id": products[0]["id"], "quantity": "1"}]}
    headers = {"Idempotency-Key": f"order-{uuid.uuid4()}"}
    first = cashier.post("/api/v1/sales/orders", json=body, headers=headers)
    again = cashier.post("/api/v1/sales/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = cashier.post("/api/v1/sales/orders", json={**body, "notes": "x"}, headers=headers)
    assert other.status_code == 422
    count = admin_connection.execute("SELECT count(*) FROM sales_orders WHERE tenant_id = %s",
                                     (sales_tenant.id,)).fetchone()[0]
    assert count == 1


def test_another_tenants_order_is_404(cashier, make_tenant):
    other = make_tenant(modules=["sales"])
    product = make_product(other.as_role("admin"), sale_price="1.00")
    theirs = other.as_role("cashier").post("/api/v1/sales/orders", json={"lines": [
        {"product_id": product["id"], "quantity": "1"}]}).json["id"]
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/confirm"),
                           ("POST", "/cancel"), ("POST", "/fulfil"), ("GET", "/returns")):
        response = cashier.open(method, f"/api/v1/sales/orders/{theirs}{suffix}", json={})
        assert response.status_code == 404, (method, suffix)
    assert cashier.get(f"/api/v1/sales/returns/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize("role", ["owner", "admin", "cashier"])
def test_every_tenant_role_may_sell(sales_tenant, products, role):
    assert sales_tenant.as_role(role).post("/api/v1/sales/orders", json={"lines": [
        {"product_id": products[0]["id"], "quantity": "1"}]}).status_code == 201


def test_user_api_keys_may_not_sell_and_anonymous_is_401(sales_tenant, issue_key):
    key = sales_tenant.anonymous().with_api_key(issue_key(sales_tenant, "user"))
    assert key.get("/api/v1/sales/orders").status_code == 403
    assert key.post("/api/v1/sales/customers", json={"name": "x"}).status_code == 403
    for path in ("/api/v1/sales/orders", "/api/v1/sales/customers",
                 f"/api/v1/sales/orders/{uuid.uuid4()}"):
        assert sales_tenant.anonymous().get(path).status_code == 401


def test_module_disabled_is_403(make_tenant):
    without = make_tenant(modules=["catalog"]).as_role("owner")
    for method, path in (("GET", "/api/v1/sales/orders"), ("POST", "/api/v1/sales/orders"),
                         ("GET", "/api/v1/sales/customers"),
                         ("POST", f"/api/v1/sales/orders/{uuid.uuid4()}/fulfil")):
        response = without.open(method, path, json={})
        assert response.status_code == 403
        assert response.json["message"] == "module 'sales' is not enabled for this tenant"
