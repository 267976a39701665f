"""The tenant owner in a real browser: signs in, creates a cashier on the users page, creates
an API key (shown once, with a working copy button; the list never shows it again), revokes
it, and a POST made from the page without the CSRF token is refused and changes nothing. The
dashboard fits a phone-width screen without scrolling sideways."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.tenant_lifecycle import create_tenant
from core.testing.browser import screenshot, sign_in
from core.testing.tenants import PASSWORD, TenantHandle

pytestmark = pytest.mark.browser

CASHIER_PASSWORD = "till-horse-battery"


@pytest.fixture
def corner_shop(app, client):
    slug = f"corner{uuid.uuid4().hex[:6]}"
    owner = f"owner@{slug}.test"
    with app.app_context():
        tenant = create_tenant(slug=slug, name="Corner Shop", owner_email=owner,
                               owner_password=PASSWORD, modules={"users": {}})
        db.session.commit()
        return TenantHandle(tenant.id, slug, app, client, {"owner": owner})




def test_owner_manages_users_and_api_keys(app, corner_shop, serve, open_page):
    port = serve(app)
    page = open_page(port, corner_shop.host)
    sign_in(page, corner_shop.users["owner"])

    # Users: create a cashier through the form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.wait_for_url("**/users/")
    cashier = f"till@{corner_shop.slug}.test"
    form = page.get_by_role("region", name="New user")
    form.get_by_label("E-mail").fill(cashier)
    form.get_by_label("Role").select_option("cashier")
    form.get_by_label("Initial password").fill(CASHIER_PASSWORD)
    form.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"User {cashier} (cashier) created.")).to_be_visible()
    expect(page.get_by_role("link", name=cashier)).to_be_visible()
    screenshot(page, "tenant-users")

    # API keys: from the settings panel; the key is shown once with a copy button.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="API keys").click()
    page.wait_for_url("**/settings/api-keys")
    page.get_by_label("Label").fill("Web shop")
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="API key created")).to_be_visible()
    raw = page.locator("#new-key").inner_text().strip()
    assert len(raw) > 20
    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()  # console.js un-hides it
    screenshot(page, "tenant-api-key-created")

    # Back to the list, and a reload: only the prefix, never the key.
    page.get_by_role("link", name="Back to the API keys").click()
    page.reload()
    assert raw not in page.content()
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Web shop"))
    expect(row.get_by_text("active")).to_be_visible()
    expect(row.get_by_text(f"by {corner_shop.users['owner']}")).to_be_visible()
    screenshot(page, "tenant-api-keys")

    # Revoke, confirming the question.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Web shop").click()
    expect(page.get_by_text("is revoked.")).to_be_visible()
    expect(row.get_by_text("revoked", exact=True).first).to_be_visible()
    assert page.get_by_role("button", name="Revoke Web shop").count() == 0

    # POSTs from this page without the CSRF token (the browser sends its cookies): a script's
    # fetch, and the create form with its token taken out. (Playwright's page.request runs
    # outside Chromium and cannot reach the test host names.)
    fetched = page.evaluate("""async () => {
        const body = new URLSearchParams({label: "Fetched", role: "admin"});
        const answer = await fetch("/settings/api-keys", {method: "POST", body});
        return answer.status;
    }""")
    assert fetched == 403
    page.locator("form[action$='/settings/api-keys'] input[name=csrf_token]").evaluate(
        "input => input.remove()")
    page.get_by_label("Label").fill("Forged")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Create key").click()
    assert navigation.value.status == 403
    expect(page.get_by_text("did not come from this site")).to_be_visible()
    page.goto("/settings/api-keys")
    assert page.get_by_text("Forged").count() == 0 and page.get_by_text("Fetched").count() == 0
    expect(page.get_by_text("1 key;")).to_be_visible()

    # The new cashier signs in with the initial password.
    till = open_page(port, corner_shop.host)
    sign_in(till, cashier, CASHIER_PASSWORD)
    expect(till.get_by_text(f"{cashier} (cashier)")).to_be_visible()


def test_dashboard_fits_a_phone(app, corner_shop, serve, open_page):
    corner_shop.add_user("cashier")
    port = serve(app)
    page = open_page(port, corner_shop.host, width=390, height=844)
    sign_in(page, corner_shop.users["owner"])
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()  # core's tile
    widths = page.evaluate("""() => ({
        page: document.documentElement.scrollWidth, body: document.body.scrollWidth,
        view: window.innerWidth})""")
    assert widths["page"] <= widths["view"] and widths["body"] <= widths["view"], widths
    screenshot(page, "tenant-dashboard-phone")
    # The navigation and sign-out stay reachable on the narrow screen.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
