"""Reports, cases and billing in a real browser: run a report with parameters and see its
table and SVG chart, download its CSV (the API's CSV), open a case, see the usage page, and
set a tenant's plan from the platform console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.testing.app import PLATFORM_EMAIL, PLATFORM_PASSWORD
from core.testing.browser import screenshot
from core.testing.tenants import PASSWORD
from tests.fixtures.products import make_product, receive_stock

pytestmark = pytest.mark.browser


@pytest.fixture
def clinic_shop(make_tenant):
    """A tenant that sells (two fulfilled orders today) and keeps cases."""
    tenant = make_tenant(modules=["catalog", "stock", "sales", "reports", "cases"])
    owner = tenant.as_role("owner")
    product = make_product(owner, sale_price="12.50", name="Bandage")
    receive_stock(owner, product["id"], "10")
    for quantity in ("2", "3"):
        order = owner.post("/api/v1/sales/orders", json={"lines": [
            {"product_id": product["id"], "quantity": quantity}]}).json
        owner.post(f"/api/v1/sales/orders/{order['id']}/confirm")
        assert owner.post(f"/api/v1/sales/orders/{order['id']}/fulfil").status_code == 200
    return tenant


def _sign_in(page, email, password=PASSWORD, path="/"):
    page.goto(path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}")


def test_report_chart_csv_case_usage_and_plan(app, clinic_shop, serve, open_page):
    port = serve(app)
    page = open_page(port, clinic_shop.host)
    _sign_in(page, clinic_shop.users["owner"])
    nav = page.get_by_role("navigation", name="Main")

    nav.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    screenshot(page, "reports-list")

    page.get_by_role("link", name="Sales by day").click()
    today = datetime.now(UTC).date()
    date_from = today - timedelta(days=6)
    page.get_by_label("Date from").fill(date_from.isoformat())
    page.get_by_label("Date to").fill(today.isoformat())
    page.get_by_role("button", name="Run report").click()
    page.wait_for_url(f"**date_from={date_from.isoformat()}**")
    expect(page.get_by_role("img", name="net_total by day")).to_be_visible()  # the SVG chart
    assert page.locator("svg.chart rect.bar").count() >= 1
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name="net_total")).to_be_visible()
    expect(table.get_by_role("cell", name="62.50").first).to_be_visible()  # 5 x 12.50
    screenshot(page, "report-sales-by-day")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "sales_by_day.csv"
    api = clinic_shop.as_role("owner").get(
        f"/api/v1/reports/sales_by_day?format=csv&date_from={date_from}&date_to={today}")
    assert Path(download.path()).read_bytes() == api.get_data()

    nav.get_by_role("link", name="Cases").click()
    page.get_by_role("link", name="Open a case").click()
    page.get_by_label("Title").fill("Sprained ankle")
    page.get_by_label("Description").fill("Right ankle, sports injury")
    page.get_by_label("Patient reference").fill("MRN-0042")
    page.get_by_role("button", name="Open case").click()
    expect(page.get_by_text("Case 'Sprained ankle' opened.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sprained ankle")).to_be_visible()
    page.get_by_role("link", name="All cases").click()
    expect(page.get_by_role("link", name="Sprained ankle")).to_be_visible()
    screenshot(page, "cases-list")

    nav.get_by_role("link", name="Usage and plan").click()
    expect(page.get_by_role("heading", name="Plan: free")).to_be_visible()
    expect(page.get_by_role("cell", name="POST /console/cases/")).to_be_visible()
    screenshot(page, "billing-usage")

    platform = open_page(port, "platform.tenantry.test")
    plan_path = f"/platform/tenants/{clinic_shop.id}/plan"
    _sign_in(platform, PLATFORM_EMAIL, PLATFORM_PASSWORD, plan_path)
    platform.get_by_label("Paid").check()
    platform.get_by_role("button", name="Set plan").click()
    expect(platform.get_by_text("is on the paid plan")).to_be_visible()
    expect(platform.get_by_role("heading", name="Plan: paid")).to_be_visible()
    screenshot(platform, "platform-tenant-plan")
    assert clinic_shop.as_role("owner").get("/api/v1/billing/plan").json["plan"] == "paid"
