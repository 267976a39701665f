"""The cashier's day at the till, in headless Chromium: open a shift with a cash count, scan
two products by barcode, pay cash and see the change and the receipt, refund one line, close
the shift and read a Z report whose totals match the API's. A double-clicked Pay sells once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.testing.browser import screenshot
from core.testing.tenants import PASSWORD

pytestmark = pytest.mark.browser


def _open_till(page, shop):
    page.goto("/login")
    page.get_by_label("E-mail").fill("cashier@till.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Till").click()
    page.get_by_role("link", name="Open shift").click()
    page.get_by_label("Cash in the drawer (count)").fill("100.00")
    page.get_by_role("button", name="Open shift").click()
    page.get_by_text("Shift opened.").wait_for()


def _scan(page, code):
    scan = page.get_by_label("Scan a barcode or search")
    expect(scan).to_be_focused()  # the scanner types here without a click
    scan.fill(code)
    scan.press("Enter")  # what a barcode scanner types after the code
    page.wait_for_load_state()


def test_a_cashiers_day(app, shop, pos_cashier, serve, open_page):
    page = open_page(serve(app), shop.host, width=1024, height=768)
    _open_till(page, shop)
    _scan(page, "4006381333931")
    _scan(page, "5000112546415")
    expect(page.get_by_role("rowheader", name="Coffee")).to_have_count(1)
    expect(page.get_by_role("rowheader", name="Mug")).to_have_count(1)
    expect(page.locator("#total")).to_have_text("12.43")  # 2.75 + 9.68
    screenshot(page, "pos-till")

    page.get_by_label("Amount given (cash)").fill("20.00")
    page.get_by_role("button", name="Pay").dblclick()  # a nervous double click
    page.get_by_role("heading", name="Receipt").wait_for()
    assert page.locator("#change").inner_text() == "7.57"
    assert "Fiscal number" in page.locator(".fiscal").inner_text()
    screenshot(page, "pos-receipt")
    receipts = pos_cashier.get("/api/v1/pos/receipts").json
    assert len(receipts) == 1, "a double-clicked Pay must sell once"

    page.get_by_role("link", name="Refund").click()
    page.get_by_label("Mug").fill("1")
    page.get_by_role("button", name="Refund").click()
    assert page.locator("#refund-total").inner_text() == "9.68"

    page.get_by_role("link", name="Back to the till").click()
    page.get_by_text("Shift", exact=True).click()  # the <summary> of the shift tools
    page.get_by_role("link", name="Close shift").click()
    page.get_by_label("Cash counted in the drawer").fill("105.00")
    page.get_by_role("button", name="Close shift and print the Z report").click()
    page.get_by_role("heading", name="Z report").wait_for()
    screenshot(page, "pos-z-report")
    shift_id = page.url.split("/shifts/")[1].split("/")[0]
    z_api = pos_cashier.get(f"/api/v1/pos/shifts/{shift_id}/z-report").json
    for field in ("sales_total", "refunds_total", "net_total", "expected_cash", "counted_cash",
                  "difference"):
        assert page.locator(f'[data-field="{field}"]').inner_text() == z_api[field], field
    assert z_api["receipts"] == 1 and z_api["refunds"] == 1
