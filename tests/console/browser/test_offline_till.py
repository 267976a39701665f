"""The till with the network cut, in headless Chromium (Playwright's offline mode: requests
fail and the page is told it is offline): the cashier keeps scanning and records two sales on
the device with the offline total the server will compute; nothing reaches the server; back
online, the queue is sent and each sale is recorded once — also when the same queue is sent a
second time after a reload (a lost answer)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from core.testing.browser import screenshot
from core.testing.tenants import PASSWORD

pytestmark = pytest.mark.browser


def _scan(page, code):
    field = page.get_by_label("Scan a barcode or SKU")
    field.fill(code)
    field.press("Enter")


def test_sales_recorded_offline_are_sent_once_when_the_network_is_back(
        app, shop, pos_register, pos_cashier, serve, open_page):
    page = open_page(serve(app), shop.host, width=1024, height=768)
    page.goto("/login")
    page.get_by_label("E-mail").fill("cashier@till.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/pos/registers/{pos_register['id']}/till")
    page.get_by_label("Cash in the drawer (count)").fill("100.00")
    page.get_by_role("button", name="Open shift").click()
    page.get_by_text("Shift opened.").wait_for()
    page.locator("#till-offline[data-catalogue=ready]").wait_for(state="attached")

    page.context.set_offline(True)
    offline = page.get_by_role("region", name="Offline till")
    offline.wait_for()
    assert page.get_by_label("Scan a barcode or search").is_hidden()  # the server's cart
    _scan(page, "4006381333931")
    _scan(page, "4006381333931")
    _scan(page, "5000112546415")
    assert page.locator("#offline-total").inner_text() == "15.18"  # 2 x 2.75 + 9.68
    offline.get_by_label("Cash given").fill("20")
    offline.get_by_role("button", name="Record sale").click()
    expect(page.get_by_text("total 15.18, change 4.82")).to_be_visible()
    _scan(page, "Mug")  # by name, when one product matches
    offline.get_by_label("Card").check()
    offline.get_by_role("button", name="Record sale").click()
    expect(page.get_by_text("2 sale(s) recorded offline wait to be sent.")).to_be_visible()
    screenshot(page, "pos-till-offline")
    queue_key = f"tenantry.till.{pos_register['id']}.queue"
    queued = json.loads(page.evaluate(f"localStorage.getItem('{queue_key}')"))
    assert pos_cashier.get("/api/v1/pos/receipts").json == []  # nothing left the device

    page.context.set_offline(False)
    page.locator("#till-offline[data-synced='2']").wait_for(state="attached")
    expect(page.get_by_text("2 offline sale(s) recorded.")).to_be_visible()
    expect(page.get_by_label("Scan a barcode or search")).to_be_visible()
    receipts = pos_cashier.get("/api/v1/pos/receipts").json
    assert sorted(r["total"] for r in receipts) == ["15.18", "9.68"]
    assert {r["client_receipt_id"] for r in receipts} == {s["client_receipt_id"] for s in queued}

    # The answer was lost and the device sends the same queue again: nothing new is recorded.
    page.evaluate(f"localStorage.setItem('{queue_key}', {json.dumps(json.dumps(queued))})")
    page.reload()
    page.get_by_text("0 offline sale(s) recorded, 2 recorded already.").wait_for()
    assert len(pos_cashier.get("/api/v1/pos/receipts").json) == 2
    assert page.evaluate(f"localStorage.getItem('{queue_key}')") == "[]"
