"""A third-party plugin's console page in a real browser: it appears (navigation, dashboard
tile, page) only for a tenant that enabled the module, and disappears when the owner switches
the module off in settings — the page then answers 403 by URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from core.models import User
from core.tenant_lifecycle import create_tenant
from core.testing.browser import screenshot, sign_in
from core.testing.tenants import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def notes_shop(notes_app):
    with notes_app.app_context():
        tenant = create_tenant(slug="notesshop", name="Notes Shop",
                               owner_email="owner@notes.test", owner_password=PASSWORD,
                               modules={"notes": {}})
        other = create_tenant(slug="plainshop", name="Plain Shop",
                              owner_email="owner@plain.test", owner_password=PASSWORD)
        db.session.commit()
        assert db.session.execute(select(User.id)).first() is None  # RLS: no tenant, no rows
        return tenant.slug, other.slug




def test_plugin_page_only_where_enabled(notes_app, notes_shop, serve, open_page):
    port = serve(notes_app)
    slug, other_slug = notes_shop

    page = open_page(port, f"{slug}.tenantry.test")
    sign_in(page, "owner@notes.test")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notes")).to_be_visible()
    expect(page.get_by_role("heading", name="Notes")).to_be_visible()  # the dashboard tile
    screenshot(page, "tenant-dashboard")

    nav.get_by_role("link", name="Notes").click()
    page.get_by_label("Title").fill("Till 2 <script>alert(1)</script>")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Note saved.")).to_be_visible()
    expect(page.get_by_text("Till 2 <script>alert(1)</script>")).to_be_visible()  # escaped

    page.goto("/settings")
    screenshot(page, "tenant-settings")
    page.get_by_role("button", name="Disable Notes").click()
    expect(page.get_by_text("disabled notes")).to_be_visible()
    assert page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Notes").count() == 0
    response = page.goto("/notes/")
    assert response.status == 403
    expect(page.get_by_text("module 'notes' is not enabled for this tenant")).to_be_visible()

    other = open_page(port, f"{other_slug}.tenantry.test")
    sign_in(other, "owner@plain.test")
    assert other.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Notes").count() == 0
    assert other.goto("/notes/").status == 403
