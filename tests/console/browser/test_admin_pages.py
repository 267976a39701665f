"""The admin pages in a real browser: an admin creates a product with a barcode, orders it
from a new supplier, receives part of it and finds the quantity on the stock page (and the
API agrees); another tenant's ids typed into the URL give the 404 page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.testing.browser import screenshot, sign_in
from tests.fixtures.inventory import build_shop

pytestmark = pytest.mark.browser




def test_the_admin_creates_a_product_and_receives_stock(app, serve, open_page):
    shop = build_shop(app)
    port = serve(app)
    page = open_page(port, shop.tenant.host, width=1024, height=768)
    sign_in(page, shop.tenant.users["admin"])
    nav = page.get_by_role("navigation", name="Main")

    nav.get_by_role("link", name="Products").click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill("TEA-20")
    page.get_by_label("Name").fill("Green tea, 20 bags")
    page.get_by_label("Barcode").fill("5901234123457")
    page.get_by_label("Sale price").fill("3.50")
    page.get_by_label("Tax rate (%)").fill("21")
    screenshot(page, "catalog-product-form")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_text("Product TEA-20 created.")).to_be_visible()
    page.get_by_label("Search name, SKU or barcode").fill("5901234123457")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name="5901234123457")).to_be_visible()
    screenshot(page, "catalog-products")

    nav.get_by_role("link", name="Suppliers").click()
    page.get_by_role("link", name="New supplier").click()
    page.get_by_label("Name").fill("Leaf & Co")
    page.get_by_label("E-mail").fill("orders@leaf.test")
    page.get_by_role("button", name="Create supplier").click()
    expect(page.get_by_text("Supplier Leaf & Co created.")).to_be_visible()

    nav.get_by_role("link", name="Purchase orders").click()
    page.get_by_role("link", name="New purchase order").click()
    page.get_by_label("Supplier", exact=True).select_option(label="Leaf & Co")
    page.get_by_label("Line 1 product").select_option(label="Green tea, 20 bags (TEA-20)")
    page.get_by_label("Line 1 quantity").fill("12")
    page.get_by_label("Line 1 unit cost").fill("1.80")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_text("Draft PO-000001 created.")).to_be_visible()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("PO-000001 ordered.")).to_be_visible()

    page.get_by_role("link", name="Receive goods").click()
    quantity = page.get_by_label("Receive now: Green tea, 20 bags")
    assert quantity.input_value() == "12.000"
    quantity.fill("5")
    page.get_by_label("Note").fill("first delivery")
    screenshot(page, "purchasing-receive")
    page.get_by_role("button", name="Receive into stock").click()
    expect(page.get_by_text("Received 1 line(s) on PO-000001.")).to_be_visible()
    expect(page.get_by_text("partially received").first).to_be_visible()
    screenshot(page, "purchasing-order")

    nav.get_by_role("link", name="Stock").click()
    page.get_by_label("Search name, SKU or barcode").fill("TEA-20")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text="TEA-20")
    expect(row.get_by_role("cell", name="5.000")).to_be_visible()
    screenshot(page, "stock-balances")
    row.get_by_role("link", name="TEA-20").click()
    assert page.get_by_test_id("on-hand").inner_text() == "5.000"
    expect(page.get_by_role("cell", name="PO 1 line 1")).to_be_visible()
    screenshot(page, "stock-ledger")

    product = shop.admin.get("/api/v1/catalog/products?q=5901234123457").json[0]
    stock = shop.admin.get(f"/api/v1/stock/products/{product['id']}").json
    assert (stock["quantity"], stock["average_cost"]) == ("5.000", "1.8000")


def test_another_tenants_ids_typed_into_the_url_give_404(app, serve, open_page):
    mine, theirs = build_shop(app), build_shop(app)
    product = theirs.admin.post("/api/v1/catalog/products", json={
        "sku": "SECRET-1", "name": "Their product", "sale_price": "1"}).json
    supplier = theirs.admin.post("/api/v1/purchasing/suppliers",
                                 json={"name": "Their supplier"}).json
    order = theirs.admin.post("/api/v1/purchasing/orders", json={
        "supplier_id": supplier["id"],
        "lines": [{"product_id": product["id"], "quantity": "1", "unit_cost": "1"}]}).json
    port = serve(app)
    page = open_page(port, mine.tenant.host)
    sign_in(page, mine.tenant.users["admin"])
    for path, what in ((f"/catalog/products/{product['id']}", "product"),
                       (f"/stock/products/{product['id']}", "product"),
                       (f"/purchasing/suppliers/{supplier['id']}", "supplier"),
                       (f"/purchasing/orders/{order['id']}", "purchase order"),
                       (f"/purchasing/orders/{order['id']}/receive", "purchase order")):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_text(re.compile(f"{what} not found"))).to_be_visible()
        assert page.get_by_text("Their").count() == 0
