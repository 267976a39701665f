"""The platform operator in a real browser: signs in, creates a template, creates a tenant
with it and switches a module on the tenant's page; the database and the platform API agree
with what the page shows. Saves the platform screenshots of docs/console.md."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from core.testing.app import PLATFORM_EMAIL, PLATFORM_HOST, PLATFORM_PASSWORD
from core.testing.browser import screenshot

pytestmark = pytest.mark.browser


def _sign_in(page):
    page.goto("/platform/")
    assert "/platform/login" in page.url
    page.get_by_label("E-mail").fill(PLATFORM_EMAIL)
    page.get_by_label("Password").fill(PLATFORM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/platform/")


def test_operator_creates_a_tenant_with_a_template_and_switches_a_module(
        app, serve, open_page, platform_admin, admin_connection):
    port = serve(app)
    page = open_page(port, PLATFORM_HOST, width=1024, height=768)
    _sign_in(page)
    nav = page.get_by_role("navigation", name="Main")

    # A template with the catalog.
    key = f"shop{uuid.uuid4().hex[:6]}"
    nav.get_by_role("link", name="Templates").click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Key").fill(key)
    page.get_by_label("Name", exact=True).fill("Corner shop")
    page.get_by_label("Catalog", exact=True).check()
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_text(f"Template {key} created.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(key))).to_be_visible()
    screenshot(page, "platform-templates")

    # A tenant created with the template.
    slug = f"corner{uuid.uuid4().hex[:6]}"
    nav.get_by_role("link", name="Tenants").click()
    page.get_by_role("link", name="New tenant").click()
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Name", exact=True).fill("Corner Shop")
    page.get_by_label("Owner e-mail").fill(f"owner@{slug}.test")
    page.get_by_label("Owner password").fill("corner-shop-password")
    page.get_by_label("Template").select_option(key)
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("heading", name=f"Tenant {slug}")).to_be_visible()
    expect(page.get_by_text(f"Tenant {slug} created with owner owner@{slug}.test")).to_be_visible()
    catalog = page.locator("#module-catalog")
    expect(catalog.get_by_text("Enabled", exact=True)).to_be_visible()

    # Switch stock on: its requirement (catalog) is already there.
    page.get_by_role("button", name="Enable Stock").click()
    expect(page.get_by_role("status").get_by_text("enabled stock")).to_be_visible()
    expect(page.locator("#module-stock").get_by_text("Enabled", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Disable Stock")).to_be_visible()
    screenshot(page, "platform-tenant")
    tenant_url = page.url

    # The database and the platform API say the same.
    (tenant_id,) = admin_connection.execute(
        "SELECT id FROM tenants WHERE slug = %s", (slug,)).fetchone()
    assert tenant_url.endswith(f"/platform/tenants/{tenant_id}")
    enabled = {row[0] for row in admin_connection.execute(
        "SELECT module_key FROM tenant_modules WHERE tenant_id = %s AND enabled",
        (tenant_id,)).fetchall()}
    assert {"catalog", "stock", "billing"} <= enabled
    answer = platform_admin.get(f"/api/v1/platform/tenants/{tenant_id}/modules")
    assert answer.status_code == 200
    states = {module["key"]: module["enabled"] for module in answer.json["modules"]}
    assert states["stock"] is True and states["catalog"] is True

    # The list finds it, ready.
    nav.get_by_role("link", name="Tenants").click()
    page.get_by_label("Search tenants").fill(slug)
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name=re.compile(slug))
    expect(row.get_by_text("ready", exact=True)).to_be_visible()
    screenshot(page, "platform-tenants")

    nav.get_by_role("link", name="Modules").click()
    expect(page.get_by_role("row", name=re.compile("Catalog")).get_by_text(
        "up to date")).to_be_visible()
    screenshot(page, "platform-modules")
