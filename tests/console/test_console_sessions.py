"""Console sign-in, sessions and the pages' guards through the Flask test client: the cookie
is HttpOnly and SameSite, logout ends the session on the server, CSRF-less posts are refused,
every page carries the strict CSP, and errors answer as pages (401 → login and back)."""

from __future__ import annotations

import html

from tests.fixtures.app import PLATFORM_HOST
from tests.fixtures.console import ConsoleClient
from tests.fixtures.tenants import PASSWORD


def test_a_page_without_a_session_redirects_to_login_and_back(app, tenant):
    console = ConsoleClient(app, tenant.host)
    response = console.get("/settings")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/settings"
    login = console.get("/login?next=/settings")
    assert login.status_code == 200
    assert 'name="next" value="/settings"' in login.get_data(as_text=True)
    signed_in = console.post("/login?next=/settings", {
        "email": tenant.users["owner"], "password": PASSWORD, "next": "/settings"})
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/settings"
    cookie = signed_in.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("tenantry_console="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert console.get("/settings").status_code == 200


def test_wrong_password_renders_the_form_with_401_and_no_session(app, tenant):
    console = ConsoleClient(app, tenant.host)
    response = console.post("/login", {"email": tenant.users["owner"], "password": "nope-nope"})
    assert response.status_code == 401
    assert "wrong e-mail or password" in response.get_data(as_text=True)
    assert not any(c.startswith("tenantry_console=")
                   for c in response.headers.getlist("Set-Cookie"))


def test_next_never_leaves_the_site(app, tenant):
    console = ConsoleClient(app, tenant.host)
    response = console.post("/login", {"email": tenant.users["owner"], "password": PASSWORD,
                                       "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_invalid_login_form_is_422_with_field_errors(app, tenant):
    console = ConsoleClient(app, tenant.host)
    response = console.post("/login", {"email": "", "password": ""})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(app, tenant, console_as):
    console = console_as(tenant, "owner")
    response = console.post("/settings/modules/catalog/enable", token="")
    assert response.status_code == 403
    assert "did not come from this site" in response.get_data(as_text=True)
    wrong = console.post("/settings/modules/catalog/enable", token="0" * 64)
    assert wrong.status_code == 403
    settings = console.get("/settings").get_data(as_text=True)
    assert 'id="module-catalog"' in settings and "Enable Catalog" in settings


def test_logout_ends_the_session_on_the_server(app, tenant, console_as, admin_connection):
    console = console_as(tenant, "owner")
    cookie = console.client.get_cookie("tenantry_console", domain=tenant.host)
    assert cookie is not None
    out = console.post("/logout", csrf_from="/")
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    rows = admin_connection.execute(
        "SELECT count(*) FROM console_sessions WHERE tenant_id = %s", (tenant.id,)).fetchone()
    assert rows == (0,)
    # The old cookie, replayed, no longer signs anyone in.
    replay = ConsoleClient(app, tenant.host)
    replay.client.set_cookie("tenantry_console", cookie.value, domain=tenant.host)
    assert replay.get("/").status_code == 303


def test_the_session_stores_only_a_digest(app, tenant, console_as, admin_connection):
    console = console_as(tenant, "owner")
    token = console.client.get_cookie("tenantry_console", domain=tenant.host).value
    (stored,) = admin_connection.execute(
        "SELECT token_hash FROM console_sessions WHERE tenant_id = %s", (tenant.id,)).fetchone()
    assert token.encode() not in bytes(stored) and len(bytes(stored)) == 32


def test_pages_carry_a_strict_content_security_policy(app, tenant, console_as):
    response = console_as(tenant, "owner").get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.get_data(as_text=True)


def test_a_cashier_cannot_open_the_owner_settings(app, tenant, console_as):
    response = console_as(tenant, "cashier").get("/settings")
    assert response.status_code == 403
    assert "role 'cashier' may not do this" in html.unescape(response.get_data(as_text=True))


def test_a_session_of_one_tenant_is_worthless_on_another(app, tenant, other_tenant,
                                                          console_as):
    console = console_as(tenant, "owner")
    value = console.client.get_cookie("tenantry_console", domain=tenant.host).value
    elsewhere = ConsoleClient(app, other_tenant.host)
    elsewhere.client.set_cookie("tenantry_console", value, domain=other_tenant.host)
    assert elsewhere.get("/").status_code == 303  # to the login page: not signed in there


def test_owner_switches_a_module_in_settings(app, tenant, console_as):
    console = console_as(tenant, "owner")
    response = console.post("/settings/modules/stock/enable", csrf_from="/settings")
    assert response.status_code == 303
    page = console.get("/settings").get_data(as_text=True)
    assert "enabled stock" in page and "enabled catalog (required by stock)" in page
    refused = console.post("/settings/modules/catalog/disable", csrf_from="/settings")
    assert refused.status_code == 409
    assert "stock" in refused.get_data(as_text=True)


def test_unknown_module_is_a_clear_error_page(app, tenant, console_as):
    response = console_as(tenant, "owner").post("/settings/modules/nope/enable",
                                                 csrf_from="/settings")
    assert response.status_code == 422


def test_platform_console_login_and_tenant_list(app, tenant, platform_console):
    page = platform_console.get("/platform/")
    assert page.status_code == 200
    # The session's database holds every test's tenants (50 a page, by slug): the tenant is
    # found by searching, not on the first page.
    assert "<h1>Tenants" in page.get_data(as_text=True)
    search = platform_console.get(f"/platform/?q={tenant.slug}")
    assert tenant.slug in search.get_data(as_text=True)


def test_platform_pages_need_a_platform_session(app, tenant):
    anonymous = ConsoleClient(app, PLATFORM_HOST)
    response = anonymous.get("/platform/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/platform/login?next=/platform/")
    # A tenant's host never serves the platform console.
    assert ConsoleClient(app, tenant.host).get("/platform/login").status_code == 404


def test_a_tenant_page_on_a_platform_host_goes_to_the_platform_console(app):
    assert ConsoleClient(app, PLATFORM_HOST).get("/").headers["Location"] == "/platform/"


def test_unknown_tenant_host_is_a_404_page(app):
    response = ConsoleClient(app, "nobody-here.tenantry.test").get("/login")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_api_is_unchanged_by_the_console_cookie(app, tenant, console_as):
    console = console_as(tenant, "owner")
    # The API takes bearer tokens and keys only: a console cookie is not an API credential.
    assert console.get("/api/v1/tenant/settings").status_code == 401
