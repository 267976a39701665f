"""The platform operator's console through the Flask test client: tenants (list with status
and readiness, create, activate/deactivate, switch modules, apply a template), templates, the
module registry and the admin's own password. Every page needs a platform session, answers
404 on a tenant's host, refuses posts without the CSRF token and, for invalid input, answers
422 with the field errors and changes nothing (checked in the database)."""

from __future__ import annotations

import html
import uuid

import pytest

from core import platform_admins
from core.extensions import db
from core.owner_session import owner_session
from core.testing.app import PLATFORM_HOST
from core.testing.console import ConsoleClient

PAGES = ["/platform/", "/platform/tenants/new", "/platform/templates/",
         "/platform/templates/new", "/platform/modules/", "/platform/modules/catalog",
         "/platform/account/"]


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _slug() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


def _tenant_row(admin_connection, slug):
    return admin_connection.execute(
        "SELECT id, status, status_reason FROM tenants WHERE slug = %s", (slug,)).fetchone()


def _enabled(admin_connection, tenant_id) -> set[str]:
    rows = admin_connection.execute(
        "SELECT module_key FROM tenant_modules WHERE tenant_id = %s AND enabled",
        (tenant_id,)).fetchall()
    return {row[0] for row in rows}


@pytest.fixture
def template_key(platform_console):
    key = f"tpl{uuid.uuid4().hex[:8]}"
    created = platform_console.post("/platform/templates/new", {
        "key": key, "name": "Shop starter", "module": ["catalog"],
        "feature.stock.allow_negative_stock": "true"}, csrf_from="/platform/templates/new")
    assert created.status_code == 303, _text(created)[:2000]
    return key


# --------------------------------------------------------------------------- guards


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_a_signed_in_admin(platform_console, path):
    response = platform_console.get(path)
    assert response.status_code == 200, _text(response)[:1000]
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("path", PAGES)
def test_no_session_redirects_to_the_platform_login(app, path):
    response = ConsoleClient(app, PLATFORM_HOST).get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/platform/login?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_a_tenant_host_never_serves_the_platform_console(app, tenant, console_as, path):
    assert ConsoleClient(app, tenant.host).get(path).status_code == 404
    assert console_as(tenant, "owner").get(path).status_code == 404


def test_a_tenant_session_is_no_platform_session(app, tenant, console_as):
    value = console_as(tenant, "owner").client.get_cookie(
        "tenantry_console", domain=tenant.host).value
    platform = ConsoleClient(app, PLATFORM_HOST)
    platform.client.set_cookie("tenantry_platform_console", value, domain=PLATFORM_HOST)
    assert platform.get("/platform/modules/").status_code == 303


@pytest.mark.parametrize("path", ["/platform/tenants/{id}", "/platform/tenants/{id}/status",
                                  "/platform/tenants/{id}/modules/catalog/enable",
                                  "/platform/tenants/{id}/template"])
def test_unknown_tenant_is_404(platform_console, path):
    path = path.format(id=uuid.uuid4())
    if path.endswith(("status", "enable", "template")):
        response = platform_console.post(path, {"status": "inactive", "template": "x"},
                                         csrf_from="/platform/")
    else:
        response = platform_console.get(path)
    assert response.status_code == 404
    assert "tenant not found" in _text(response)


def test_unknown_template_and_module_are_404(platform_console, tenant):
    assert platform_console.get("/platform/templates/nope-nope").status_code == 404
    assert platform_console.get("/platform/modules/nope-nope").status_code == 404
    assert platform_console.post("/platform/templates/nope-nope/delete",
                                 csrf_from="/platform/").status_code == 404
    assert platform_console.post(f"/platform/tenants/{tenant.id}/modules/nope/enable",
                                 csrf_from="/platform/").status_code == 404
    applied = platform_console.post(f"/platform/tenants/{tenant.id}/template",
                                    {"template": "nope-nope"}, csrf_from="/platform/")
    assert applied.status_code == 404


# --------------------------------------------------------------------------- tenants


def test_tenant_list_shows_status_readiness_and_links(platform_console, tenant):
    page = _text(platform_console.get(f"/platform/?q={tenant.slug}"))
    assert f'href="/platform/tenants/{tenant.id}"' in page
    assert "ready" in page and "active" in page
    inactive = _text(platform_console.get(f"/platform/?q={tenant.slug}&status=inactive"))
    assert f'href="/platform/tenants/{tenant.id}"' not in inactive


def test_tenant_list_refuses_an_unknown_status_filter(platform_console):
    response = platform_console.get("/platform/?status=sleeping")
    assert response.status_code == 422
    assert "Must be one of" in _text(response)


def test_create_a_tenant_with_a_template_and_modules(platform_console, template_key,
                                                     admin_connection):
    slug = _slug()
    response = platform_console.post("/platform/tenants/new", {
        "slug": slug.upper(), "name": "Corner Shop", "template": template_key,
        "modules": ["purchasing"], "owner_email": "Owner@Corner.test",
        "owner_password": "long-enough-password"}, csrf_from="/platform/tenants/new")
    assert response.status_code == 303, _text(response)[:2000]
    tenant_id, status, _ = _tenant_row(admin_connection, slug)
    assert response.headers["Location"] == f"/platform/tenants/{tenant_id}"
    assert status == "active"
    assert {"catalog", "purchasing", "billing"} <= _enabled(admin_connection, tenant_id)
    page = _text(platform_console.get(response.headers["Location"]))
    assert f"Tenant {slug} created with owner owner@corner.test" in page
    assert "owner@corner.test" in page


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"slug": "Not A Slug!"}, "slug", "lower-case letters"),
    ({"slug": "www"}, "slug", "this name is reserved"),
    ({"owner_email": "not-an-email"}, "owner_email", "Not a valid email address"),
    ({"owner_password": "short"}, "owner_password", "Length must be between"),
    ({"template": "no-such-template"}, "template", "no template 'no-such-template'"),
    ({"modules": ["nope"]}, "modules", "nope: no plugin provides this module"),
])
def test_invalid_tenant_form_is_422_and_creates_nothing(platform_console, admin_connection,
                                                        form, field, message):
    slug = _slug()
    data = {"slug": slug, "owner_email": "o@x.test", "owner_password": "long-enough-password",
            **form}
    response = platform_console.post("/platform/tenants/new", data,
                                     csrf_from="/platform/tenants/new")
    assert response.status_code == 422
    page = _text(response)
    assert f'id="{field}-error"' in page and message in page
    assert _tenant_row(admin_connection, slug) is None
    assert _tenant_row(admin_connection, data["slug"].lower()) is None


def test_a_taken_slug_is_409_on_the_slug_field(platform_console, tenant):
    response = platform_console.post("/platform/tenants/new", {
        "slug": tenant.slug, "owner_email": "o@x.test",
        "owner_password": "long-enough-password"}, csrf_from="/platform/tenants/new")
    assert response.status_code == 409
    assert 'id="slug-error"' in _text(response)


def test_create_without_csrf_is_403_and_creates_nothing(platform_console, admin_connection):
    slug = _slug()
    response = platform_console.post("/platform/tenants/new", {
        "slug": slug, "owner_email": "o@x.test", "owner_password": "long-enough-password"},
        token="")
    assert response.status_code == 403
    assert _tenant_row(admin_connection, slug) is None


def test_deactivate_with_a_reason_then_activate(platform_console, tenant, admin_connection):
    path = f"/platform/tenants/{tenant.id}"
    response = platform_console.post(f"{path}/status", {
        "status": "inactive", "status_reason": "unpaid invoice"}, csrf_from=path)
    assert response.status_code == 303
    assert _tenant_row(admin_connection, tenant.slug)[1:] == ("inactive", "unpaid invoice")
    page = _text(platform_console.get(path))
    assert "unpaid invoice" in page and "Activate tenant" in page
    # The tenant's API now refuses everyone.
    assert tenant.anonymous().get("/api/v1/tenant/settings").status_code == 403
    again = platform_console.post(f"{path}/status", {"status": "active"}, csrf_from=path)
    assert again.status_code == 303
    assert _tenant_row(admin_connection, tenant.slug)[1:] == ("active", None)


def test_invalid_status_is_422_and_changes_nothing(platform_console, tenant, admin_connection):
    path = f"/platform/tenants/{tenant.id}"
    response = platform_console.post(f"{path}/status", {"status": "sleeping"}, csrf_from=path)
    assert response.status_code == 422
    assert 'id="status-error"' in _text(response)
    missing = platform_console.post(f"{path}/status", {"status_reason": "x"}, csrf_from=path)
    assert missing.status_code == 422
    assert _tenant_row(admin_connection, tenant.slug)[1:] == ("active", None)


def test_status_change_without_csrf_is_403(platform_console, tenant, admin_connection):
    response = platform_console.post(f"/platform/tenants/{tenant.id}/status",
                                     {"status": "inactive"}, token="")
    assert response.status_code == 403
    assert _tenant_row(admin_connection, tenant.slug)[1] == "active"


def test_switch_modules_with_requirements(platform_console, tenant, admin_connection):
    path = f"/platform/tenants/{tenant.id}"
    enabled = platform_console.post(f"{path}/modules/stock/enable", csrf_from=path)
    assert enabled.status_code == 303
    assert {"stock", "catalog"} <= _enabled(admin_connection, tenant.id)
    page = _text(platform_console.get(path))
    assert "enabled catalog (required by stock); enabled stock" in page
    refused = platform_console.post(f"{path}/modules/catalog/disable", csrf_from=path)
    assert refused.status_code == 409
    assert "required by enabled module(s) 'stock'" in _text(refused)
    assert "catalog" in _enabled(admin_connection, tenant.id)
    off = platform_console.post(f"{path}/modules/stock/disable", csrf_from=path)
    assert off.status_code == 303
    assert "stock" not in _enabled(admin_connection, tenant.id)


def test_the_platform_switches_a_platform_only_module(platform_console, tenant,
                                                      admin_connection):
    path = f"/platform/tenants/{tenant.id}"
    assert "billing" in _enabled(admin_connection, tenant.id)
    assert platform_console.post(f"{path}/modules/billing/disable",
                                 csrf_from=path).status_code == 303
    assert "billing" not in _enabled(admin_connection, tenant.id)
    assert platform_console.post(f"{path}/modules/billing/enable",
                                 csrf_from=path).status_code == 303


def test_module_switch_without_csrf_is_403(platform_console, tenant, admin_connection):
    response = platform_console.post(f"/platform/tenants/{tenant.id}/modules/catalog/enable",
                                     token="")
    assert response.status_code == 403
    assert "catalog" not in _enabled(admin_connection, tenant.id)


def test_apply_a_template(platform_console, tenant, template_key, admin_connection):
    path = f"/platform/tenants/{tenant.id}"
    response = platform_console.post(f"{path}/template", {"template": template_key},
                                     csrf_from=path)
    assert response.status_code == 303
    assert "catalog" in _enabled(admin_connection, tenant.id)
    assert f"Applied template {template_key}: enabled catalog" in _text(
        platform_console.get(path))
    blank = platform_console.post(f"{path}/template", {"template": ""}, csrf_from=path)
    assert blank.status_code == 422 and 'id="template-error"' in _text(blank)


def test_the_tenant_page_links_the_billing_plan(platform_console, tenant):
    page = _text(platform_console.get(f"/platform/tenants/{tenant.id}"))
    assert f'href="/platform/tenants/{tenant.id}/plan"' in page


# --------------------------------------------------------------------------- templates


def _template(admin_connection, key):
    return admin_connection.execute(
        "SELECT name, description, modules FROM templates WHERE key = %s", (key,)).fetchone()


def test_create_edit_and_delete_a_template(platform_console, admin_connection):
    key = f"tpl{uuid.uuid4().hex[:8]}"
    created = platform_console.post("/platform/templates/new", {
        "key": key, "name": "Warehouse", "description": "stock keeping",
        "module": ["stock", "catalog"], "feature.stock.allow_negative_stock": "true"},
        csrf_from="/platform/templates/new")
    assert created.status_code == 303, _text(created)[:2000]
    assert _template(admin_connection, key) == (
        "Warehouse", "stock keeping", {"stock": {"allow_negative_stock": True}, "catalog": {}})
    listing = _text(platform_console.get("/platform/templates/"))
    assert key in listing and "allow_negative_stock: True" in listing

    edit = f"/platform/templates/{key}"
    form = _text(platform_console.get(edit))
    assert 'id="m-stock" name="module" type="checkbox" value="stock" checked' in form
    saved = platform_console.post(edit, {"name": "Warehouse 2", "module": ["purchasing"],
                                         "feature.purchasing.allow_over_receipt": "false"},
                                  csrf_from=edit)
    assert saved.status_code == 303
    assert _template(admin_connection, key) == (
        "Warehouse 2", "", {"purchasing": {"allow_over_receipt": False}})

    deleted = platform_console.post(f"{edit}/delete", csrf_from="/platform/templates/")
    assert deleted.status_code == 303
    assert _template(admin_connection, key) is None


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"key": "Bad Key"}, "key", "lower-case letters"),
    ({"name": ""}, "name", "Missing data for required field"),
    ({"module": ["nope"]}, "modules", "nope: no plugin provides this module"),
    ({"module": ["stock"], "feature.stock.allow_negative_stock": "maybe"},
     "feature.stock.allow_negative_stock", "must be yes or no"),
])
def test_invalid_template_is_422_and_saves_nothing(platform_console, admin_connection, form,
                                                   field, message):
    key = f"tpl{uuid.uuid4().hex[:8]}"
    data = {"key": key, "name": "X", **form}
    response = platform_console.post("/platform/templates/new", data,
                                     csrf_from="/platform/templates/new")
    assert response.status_code == 422
    page = _text(response)
    assert f'id="{field}-error"' in page and message in page
    assert _template(admin_connection, key) is None


def test_invalid_template_edit_changes_nothing(platform_console, template_key,
                                               admin_connection):
    before = _template(admin_connection, template_key)
    edit = f"/platform/templates/{template_key}"
    response = platform_console.post(edit, {"name": "", "module": ["stock"]}, csrf_from=edit)
    assert response.status_code == 422
    assert 'id="name-error"' in _text(response)
    assert _template(admin_connection, template_key) == before


def test_a_duplicate_template_key_is_409(platform_console, template_key):
    response = platform_console.post("/platform/templates/new", {
        "key": template_key, "name": "again"}, csrf_from="/platform/templates/new")
    assert response.status_code == 409
    assert 'id="key-error"' in _text(response)


def test_template_delete_without_csrf_is_403(platform_console, template_key, admin_connection):
    response = platform_console.post(f"/platform/templates/{template_key}/delete", token="")
    assert response.status_code == 403
    assert _template(admin_connection, template_key) is not None


# --------------------------------------------------------------------------- modules


def test_module_registry_shows_versions_and_migrations(platform_console):
    page = _text(platform_console.get("/platform/modules/"))
    assert 'id="module-catalog"' in page and "up to date" in page
    assert "Available version" in page and "Installed version" in page


def test_edit_a_module_name_and_description(app, platform_console, admin_connection):
    (name, description) = admin_connection.execute(
        "SELECT name, description FROM modules WHERE key = 'reports'").fetchone()
    try:
        saved = platform_console.post("/platform/modules/reports", {
            "name": "Reports & charts", "description": "Sales reports"},
            csrf_from="/platform/modules/reports")
        assert saved.status_code == 303
        assert admin_connection.execute(
            "SELECT name, description FROM modules WHERE key = 'reports'").fetchone() == (
            "Reports & charts", "Sales reports")
        assert "Reports &amp; charts" in platform_console.get(
            "/platform/modules/").get_data(as_text=True)
    finally:
        with app.app_context():
            from core.platform.services import update_module

            update_module("reports", name=name, description=description)
            db.session.commit()


def test_invalid_module_edit_is_422_and_changes_nothing(platform_console, admin_connection):
    before = admin_connection.execute(
        "SELECT name, description FROM modules WHERE key = 'catalog'").fetchone()
    response = platform_console.post("/platform/modules/catalog", {
        "name": "x" * 201, "description": "y"}, csrf_from="/platform/modules/catalog")
    assert response.status_code == 422 and 'id="name-error"' in _text(response)
    no_csrf = platform_console.post("/platform/modules/catalog", {"name": "z"}, token="")
    assert no_csrf.status_code == 403
    assert admin_connection.execute(
        "SELECT name, description FROM modules WHERE key = 'catalog'").fetchone() == before


# --------------------------------------------------------------------------- own password


@pytest.fixture
def second_admin(app):
    email = f"ops-{uuid.uuid4().hex[:6]}@tenantry.test"
    with app.app_context(), owner_session() as session:
        platform_admins.create_admin(session, email, "first-password-1")
        session.commit()
    console = ConsoleClient(app, PLATFORM_HOST)
    console.sign_in(email, "first-password-1", "/platform/login")
    return email, console


def test_change_own_password(app, second_admin):
    email, console = second_admin
    elsewhere = ConsoleClient(app, PLATFORM_HOST)
    elsewhere.sign_in(email, "first-password-1", "/platform/login")
    response = console.post("/platform/account/password", {
        "current_password": "first-password-1", "new_password": "second-password-2"},
        csrf_from="/platform/account/")
    assert response.status_code == 303
    assert "Your password is changed" in _text(console.get("/platform/account/"))
    assert elsewhere.get("/platform/account/").status_code == 303  # signed out there
    fresh = ConsoleClient(app, PLATFORM_HOST)
    fresh.sign_in(email, "second-password-2", "/platform/login")


@pytest.mark.parametrize(("form", "field"), [
    ({"current_password": "wrong-password-0", "new_password": "second-password-2"},
     "current_password"),
    ({"current_password": "first-password-1", "new_password": "short"}, "new_password"),
    ({"current_password": "first-password-1", "new_password": "first-password-1"},
     "new_password"),
    ({"current_password": "", "new_password": "second-password-2"}, "current_password"),
])
def test_invalid_password_change_is_422_and_keeps_the_password(app, second_admin, form,
                                                                field):
    email, console = second_admin
    response = console.post("/platform/account/password", form,
                            csrf_from="/platform/account/")
    assert response.status_code == 422
    assert f'id="{field}-error"' in _text(response)
    ConsoleClient(app, PLATFORM_HOST).sign_in(email, "first-password-1", "/platform/login")


def test_password_change_without_csrf_is_403(app, second_admin):
    email, console = second_admin
    response = console.post("/platform/account/password", {
        "current_password": "first-password-1", "new_password": "second-password-2"},
        token="")
    assert response.status_code == 403
    ConsoleClient(app, PLATFORM_HOST).sign_in(email, "first-password-1", "/platform/login")


def test_navigation_lists_the_platform_pages(platform_console):
    page = _text(platform_console.get("/platform/"))
    for label in ("Tenants", "Templates", "Modules", "My account"):
        assert f">{label}</a>" in page


# --------------------------------------------------------------------------- billing's page


def _plan(admin_connection, tenant_id):
    row = admin_connection.execute(
        "SELECT plan FROM billing_accounts WHERE tenant_id = %s", (tenant_id,)).fetchone()
    return row[0] if row else None


def test_billing_plan_page_shows_and_changes_the_plan(platform_console, tenant,
                                                      admin_connection):
    path = f"/platform/tenants/{tenant.id}/plan"
    page = _text(platform_console.get(path))
    assert "Plan: free" in page and "Calls used" in page
    changed = platform_console.post(path, {"plan": "paid"}, csrf_from=path)
    assert changed.status_code == 303
    assert _plan(admin_connection, tenant.id) == "paid"
    assert "is on the paid plan." in _text(platform_console.get(path))


def test_billing_plan_page_refuses_bad_input(app, platform_console, tenant, console_as,
                                             admin_connection):
    path = f"/platform/tenants/{tenant.id}/plan"
    invalid = platform_console.post(path, {"plan": "gold"}, csrf_from=path)
    assert invalid.status_code == 422 and 'id="plan-error"' in _text(invalid)
    assert platform_console.post(path, {"plan": "paid"}, token="").status_code == 403
    assert _plan(admin_connection, tenant.id) == "free"
    assert platform_console.get(f"/platform/tenants/{uuid.uuid4()}/plan").status_code == 404
    assert ConsoleClient(app, PLATFORM_HOST).get(path).status_code == 303
    assert console_as(tenant, "owner").get(path).status_code == 404
