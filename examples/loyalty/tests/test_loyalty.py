"""tenantry-loyalty through Tenantry's test kit alone (no Tenantry conftest): points earned by
completed sales, once per sale; the API, the report and the console page only where the
module is enabled; the tables and routes keep the isolation rules."""

import pytest

from core.testing import module_tables, route_problems, table_problems

ACCOUNTS = "/api/v1/loyalty/accounts"


@pytest.fixture
def shop(make_tenant):
    return make_tenant(modules=["loyalty", "reports"])


def _sell(client, total_price: str, customer_id: str | None) -> dict:
    product = client.post("/api/v1/catalog/products", json={
        "sku": f"LOY-{total_price}-{customer_id or 'none'}"[:40], "name": "Gift box",
        "sale_price": total_price})
    assert product.status_code == 201, product.json
    order = client.post("/api/v1/sales/orders", json={
        "customer_id": customer_id,
        "lines": [{"product_id": product.json["id"], "quantity": "1"}]})
    assert order.status_code == 201, order.json
    url = f"/api/v1/sales/orders/{order.json['id']}"
    assert client.post(f"{url}/confirm").status_code == 200
    fulfilled = client.post(f"{url}/fulfil")
    assert fulfilled.status_code == 200, fulfilled.json
    return fulfilled.json


def _customer(client) -> str:
    response = client.post("/api/v1/sales/customers", json={"name": "Ada"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_completed_sale_earns_points_once(shop):
    admin = shop.as_role("admin")
    customer = _customer(admin)
    _sell(admin, "42.50", customer)  # 42 whole units, 1 point each (the default rate)
    account = admin.get(f"{ACCOUNTS}/{customer}")
    assert account.status_code == 200, account.json
    assert account.json["points"] == 42 and len(account.json["entries"]) == 1
    _sell(admin, "10.00", None)  # no customer: nothing to credit
    assert [a["points"] for a in admin.get(ACCOUNTS).json] == [42]


def test_the_report_lists_the_top_customers(shop):
    admin = shop.as_role("admin")
    customer = _customer(admin)
    _sell(admin, "5.00", customer)
    report = admin.get("/api/v1/reports/loyalty_top_customers")
    assert report.status_code == 200, report.json
    assert report.json["rows"][0]["points"] == 5


def test_another_tenant_sees_no_account(shop, make_tenant):
    admin = shop.as_role("admin")
    customer = _customer(admin)
    _sell(admin, "3.00", customer)
    other = make_tenant(modules=["loyalty"]).as_role("admin")
    assert other.get(f"{ACCOUNTS}/{customer}").status_code == 404


def test_tables_keep_the_isolation_rules(app, admin_connection):
    assert table_problems(app, admin_connection, module_tables(app, "loyalty")) == []


def test_routes_are_guarded(shop, make_tenant):
    assert route_problems(ACCOUNTS, anonymous=shop.anonymous(),
                          without_module=make_tenant(modules=["sales"]).as_role("owner")) == []


def test_the_console_page_only_where_enabled(shop, make_tenant, console_as):
    assert console_as(shop, "owner").get("/loyalty/").status_code == 200
    assert console_as(make_tenant(modules=["sales"]), "owner").get("/loyalty/").status_code == 403
