"""The tenant owner's console pages through the Flask test client: users (plugins/users/
console.py) and API keys (core/console/apikey_pages.py), and core's dashboard tiles.

For each page: it answers the owner, redirects without a session, refuses admins and cashiers,
hides another tenant's ids (404), refuses CSRF-less posts and invalid forms without changing
anything, and keeps the API's domain rules (the last active owner; a raw key shown once)."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from core.testing.console import ConsoleClient
from core.testing.tenants import PASSWORD

NEW_PASSWORD = "another-horse-battery"
_RAW_KEY = re.compile(r'<code id="new-key" class="secret">([^<]+)</code>')


@pytest.fixture
def users_tenant(make_tenant):
    return make_tenant(modules=["users"])


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _user(admin_connection, tenant, email):
    return admin_connection.execute(
        "SELECT id, role, active, token_version FROM users WHERE tenant_id = %s AND email = %s",
        (tenant.id, email)).fetchone()


def _user_count(admin_connection, tenant) -> int:
    return admin_connection.execute("SELECT count(*) FROM users WHERE tenant_id = %s",
                                    (tenant.id,)).fetchone()[0]


def _keys(admin_connection, tenant):
    return admin_connection.execute(
        "SELECT id, label, revoked_at, expires_at FROM api_keys WHERE tenant_id = %s "
        "ORDER BY created_at", (tenant.id,)).fetchall()


def _signs_in(app, tenant, email, password) -> bool:
    console = ConsoleClient(app, tenant.host)
    return console.post("/login", {"email": email, "password": password}).status_code == 303


# --------------------------------------------------------------------------- guards


@pytest.mark.parametrize("path", ["/users/", "/settings/api-keys"])
def test_owner_pages_redirect_to_login_without_a_session(app, users_tenant, path):
    response = ConsoleClient(app, users_tenant.host).get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("role", ["admin", "cashier"])
@pytest.mark.parametrize("path", ["/users/", "/settings/api-keys"])
def test_owner_pages_refuse_admins_and_cashiers(users_tenant, console_as, role, path):
    response = console_as(users_tenant, role).get(path)
    assert response.status_code == 403
    assert f"role '{role}' may not do this" in _text(response)


@pytest.mark.parametrize("role", ["admin", "cashier"])
def test_admins_and_cashiers_cannot_post_either(users_tenant, console_as, admin_connection,
                                                role):
    console = console_as(users_tenant, role)
    before = _user_count(admin_connection, users_tenant)
    created = console.post("/users/", {"email": "x@example.test", "role": "owner",
                                       "password": NEW_PASSWORD}, csrf_from="/")
    assert created.status_code == 403
    assert _user_count(admin_connection, users_tenant) == before
    key = console.post("/settings/api-keys", {"label": "sneaky"}, csrf_from="/")
    assert key.status_code == 403
    assert _keys(admin_connection, users_tenant) == []


def test_users_page_is_refused_when_the_module_is_off(tenant, console_as):
    console = console_as(tenant, "owner")
    response = console.get("/users/")
    assert response.status_code == 403
    assert "module 'users' is not enabled for this tenant" in _text(response)
    assert 'href="/users/"' not in console.get("/").get_data(as_text=True)  # not in the nav
    assert 'href="/users/"' not in console.get("/settings").get_data(as_text=True)  # no panel
    assert console.get("/settings/api-keys").status_code == 200  # core's page stays


def test_owner_sees_navigation_and_settings_panels(users_tenant, console_as):
    console = console_as(users_tenant, "owner")
    dashboard = console.get("/").get_data(as_text=True)
    assert '<a href="/users/">Users</a>' in dashboard
    settings = console.get("/settings").get_data(as_text=True)
    assert 'href="/users/"' in settings and 'href="/settings/api-keys"' in settings
    admin = console_as(users_tenant, "admin").get("/").get_data(as_text=True)
    assert 'href="/users/"' not in admin


# --------------------------------------------------------------------------- users


def test_owner_lists_searches_and_filters_users(users_tenant, console_as):
    cashier = users_tenant.add_user("cashier", f"till-one@{users_tenant.slug}.test")
    admin = users_tenant.add_user("admin", f"backoffice@{users_tenant.slug}.test")
    console = console_as(users_tenant, "owner")
    page = _text(console.get("/users/"))
    assert cashier in page and admin in page and users_tenant.users["owner"] in page
    assert "3 users" in page
    found = _text(console.get("/users/?q=TILL"))
    assert cashier in found and admin not in found
    by_role = _text(console.get("/users/?role=admin&active=&q="))
    assert admin in by_role and cashier not in by_role
    assert "No users match" in _text(console.get("/users/?active=false"))


def test_invalid_user_filters_are_422_not_500(users_tenant, console_as):
    response = console_as(users_tenant, "owner").get("/users/?role=boss&active=maybe")
    assert response.status_code == 422
    page = _text(response)
    assert "Must be one of: owner, admin, cashier." in page
    assert "Not a valid boolean." in page


def test_users_list_is_paginated(users_tenant, console_as, admin_connection):
    for number in range(55):
        admin_connection.execute(
            "INSERT INTO users (tenant_id, id, email, password_hash, role) "
            "VALUES (%s, %s, %s, 'x', 'cashier')",
            (users_tenant.id, uuid.uuid4(), f"bulk{number:02d}@{users_tenant.slug}.test"))
    console = console_as(users_tenant, "owner")
    first = _text(console.get("/users/?role=cashier"))
    assert "Page 1 of 2" in first and "55 users" in first
    assert "bulk49@" in first and "bulk50@" not in first  # 50 a page, by e-mail
    assert 'href="?role=cashier&page=2"' in first  # the filter is kept
    second = _text(console.get("/users/?role=cashier&page=2"))
    assert "bulk54@" in second and "bulk49@" not in second
    assert 'href="?role=cashier&page=1"' in second
    assert "Page 2 of 2" in _text(console.get("/users/?role=cashier&page=999"))


def test_owner_creates_a_cashier_who_can_sign_in(app, users_tenant, console_as,
                                                 admin_connection):
    console = console_as(users_tenant, "owner")
    email = f"new-till@{users_tenant.slug}.test"
    response = console.post("/users/", {"email": email, "role": "cashier",
                                        "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert f"User {email} (cashier) created." in _text(console.get("/users/"))
    assert _user(admin_connection, users_tenant, email)[1:3] == ("cashier", True)
    assert _signs_in(app, users_tenant, email, NEW_PASSWORD)


def test_invalid_new_user_is_422_with_field_errors_and_nothing_created(
        users_tenant, console_as, admin_connection):
    console = console_as(users_tenant, "owner")
    before = _user_count(admin_connection, users_tenant)
    response = console.post("/users/", {"email": "not-an-email", "role": "boss",
                                        "password": "short"})
    assert response.status_code == 422
    page = _text(response)
    assert 'id="email-error"' in page and "Not a valid email address." in page
    assert 'id="role-error"' in page and 'id="password-error"' in page
    assert 'value="not-an-email"' in page  # what was typed is kept (never the password)
    assert _user_count(admin_connection, users_tenant) == before


def test_a_taken_email_is_409_on_the_form(users_tenant, console_as, admin_connection):
    console = console_as(users_tenant, "owner")
    before = _user_count(admin_connection, users_tenant)
    response = console.post("/users/", {"email": users_tenant.users["owner"],
                                        "role": "cashier", "password": NEW_PASSWORD})
    assert response.status_code == 409
    assert "already exists in this tenant" in _text(response)
    assert _user_count(admin_connection, users_tenant) == before


def test_creating_a_user_without_csrf_is_403_and_creates_nothing(
        users_tenant, console_as, admin_connection):
    console = console_as(users_tenant, "owner")
    before = _user_count(admin_connection, users_tenant)
    response = console.post("/users/", {"email": f"csrf@{users_tenant.slug}.test",
                                        "role": "owner", "password": NEW_PASSWORD}, token="")
    assert response.status_code == 403
    assert "did not come from this site" in _text(response)
    assert _user_count(admin_connection, users_tenant) == before


def test_owner_changes_a_role(app, users_tenant, console_as, admin_connection):
    email = users_tenant.add_user("cashier")
    user_id = _user(admin_connection, users_tenant, email)[0]
    console = console_as(users_tenant, "owner")
    detail = console.get(f"/users/{user_id}")
    assert detail.status_code == 200 and email in _text(detail)
    response = console.post(f"/users/{user_id}/role", {"role": "admin"},
                            csrf_from=f"/users/{user_id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/users/{user_id}"
    assert _user(admin_connection, users_tenant, email)[1] == "admin"
    invalid = console.post(f"/users/{user_id}/role", {"role": "boss"},
                           csrf_from=f"/users/{user_id}")
    assert invalid.status_code == 422 and 'id="role-error"' in invalid.get_data(as_text=True)
    missing = console.post(f"/users/{user_id}/role", {}, csrf_from=f"/users/{user_id}")
    assert missing.status_code == 422
    assert _user(admin_connection, users_tenant, email)[1] == "admin"


def test_the_last_active_owner_cannot_be_demoted_or_deactivated(
        users_tenant, console_as, admin_connection):
    owner = users_tenant.users["owner"]
    owner_id = _user(admin_connection, users_tenant, owner)[0]
    console = console_as(users_tenant, "owner")
    demote = console.post(f"/users/{owner_id}/role", {"role": "cashier"},
                          csrf_from=f"/users/{owner_id}")
    assert demote.status_code == 409
    assert "cannot demote the last active owner" in _text(demote)
    deactivate = console.post(f"/users/{owner_id}/deactivate", csrf_from=f"/users/{owner_id}")
    assert deactivate.status_code == 409
    assert "cannot deactivate the last active owner" in _text(deactivate)
    assert _user(admin_connection, users_tenant, owner)[1:3] == ("owner", True)
    assert console.get("/users/").status_code == 200  # still signed in


def test_deactivating_ends_the_users_sessions_and_reactivating_restores_access(
        app, users_tenant, console_as, admin_connection):
    cashier_console = console_as(users_tenant, "cashier")
    email = users_tenant.users["cashier"]
    user_id = _user(admin_connection, users_tenant, email)[0]
    assert cashier_console.get("/").status_code == 200
    owner = console_as(users_tenant, "owner")
    response = owner.post(f"/users/{user_id}/deactivate", csrf_from=f"/users/{user_id}")
    assert response.status_code == 303
    assert "deactivated" in _text(owner.get(f"/users/{user_id}"))
    assert _user(admin_connection, users_tenant, email)[2] is False
    assert cashier_console.get("/").status_code == 303  # signed out
    assert not _signs_in(app, users_tenant, email, PASSWORD)
    back = owner.post(f"/users/{user_id}/activate", csrf_from=f"/users/{user_id}")
    assert back.status_code == 303
    assert _signs_in(app, users_tenant, email, PASSWORD)


def test_a_second_owner_can_demote_the_first_who_then_loses_the_page(
        users_tenant, console_as, admin_connection):
    first = console_as(users_tenant, "owner")
    second_email = users_tenant.add_user("owner", f"second@{users_tenant.slug}.test")
    first_id = _user(admin_connection, users_tenant, users_tenant.users["owner"])[0]
    # The first owner demotes themself: allowed (another owner remains), and they land on
    # the dashboard, where the users page is no longer theirs.
    response = first.post(f"/users/{first_id}/role", {"role": "admin"},
                          csrf_from=f"/users/{first_id}")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert first.get("/users/").status_code == 403
    assert _user(admin_connection, users_tenant, second_email)[1] == "owner"


def test_owner_resets_a_password(app, users_tenant, console_as, admin_connection):
    email = users_tenant.add_user("admin")
    user_id = _user(admin_connection, users_tenant, email)[0]
    console = console_as(users_tenant, "owner")
    short = console.post(f"/users/{user_id}/password", {"password": "short"},
                         csrf_from=f"/users/{user_id}")
    assert short.status_code == 422 and 'id="password-error"' in short.get_data(as_text=True)
    assert _signs_in(app, users_tenant, email, PASSWORD)  # unchanged
    no_csrf = console.post(f"/users/{user_id}/password", {"password": NEW_PASSWORD}, token="")
    assert no_csrf.status_code == 403
    assert _signs_in(app, users_tenant, email, PASSWORD)  # unchanged
    response = console.post(f"/users/{user_id}/password", {"password": NEW_PASSWORD},
                            csrf_from=f"/users/{user_id}")
    assert response.status_code == 303
    assert not _signs_in(app, users_tenant, email, PASSWORD)
    assert _signs_in(app, users_tenant, email, NEW_PASSWORD)


def test_another_tenants_user_is_404(users_tenant, make_tenant, console_as, admin_connection):
    other = make_tenant(modules=["users"])
    other_owner = _user(admin_connection, other, other.users["owner"])
    console = console_as(users_tenant, "owner")
    path = f"/users/{other_owner[0]}"
    assert console.get(path).status_code == 404
    assert console.post(f"{path}/role", {"role": "cashier"}, csrf_from="/users/") \
        .status_code == 404
    assert console.post(f"{path}/deactivate", csrf_from="/users/").status_code == 404
    assert console.post(f"{path}/password", {"password": NEW_PASSWORD},
                        csrf_from="/users/").status_code == 404
    assert _user(admin_connection, other, other.users["owner"]) == other_owner
    assert console.get(f"/users/{uuid.uuid4()}").status_code == 404
    assert console.get("/users/not-a-uuid").status_code == 404


# --------------------------------------------------------------------------- API keys


def _create_key(console, label="Shop website", role="user"):
    response = console.post("/settings/api-keys", {"label": label, "role": role})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    return _RAW_KEY.search(response.get_data(as_text=True)).group(1), response


def test_owner_creates_a_key_shown_once(app, users_tenant, console_as, admin_connection):
    console = console_as(users_tenant, "owner")
    raw, response = _create_key(console, "Shop <website>", "admin")
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert '<button type="button" data-copy="new-key" hidden>Copy</button>' in page
    assert "shown only once" in page
    assert "Shop &lt;website&gt;" in page  # escaped
    # The key works on the API, with its role.
    me = users_tenant.anonymous().with_api_key(raw).get("/api/v1/auth/me")
    assert me.status_code == 200, me.json
    # Never again: not on the list, and the database holds only a digest.
    listing = console.get("/settings/api-keys").get_data(as_text=True)
    assert raw not in listing and raw[:8] in listing
    assert "Shop &lt;website&gt;" in listing
    assert f"by {users_tenant.users['owner']}" in listing  # created_by, as an e-mail
    stored = admin_connection.execute(
        "SELECT key_hash, prefix FROM api_keys WHERE tenant_id = %s", (users_tenant.id,)
    ).fetchone()
    assert raw.encode() not in bytes(stored[0]) and raw.startswith(stored[1])
    assert "tenantry_notice" not in str(response.headers.getlist("Set-Cookie"))


def test_invalid_key_form_is_422_and_creates_nothing(users_tenant, console_as,
                                                      admin_connection):
    console = console_as(users_tenant, "owner")
    response = console.post("/settings/api-keys", {"label": "   ", "role": "root"})
    assert response.status_code == 422
    page = _text(response)
    assert 'id="role-error"' in page and "Must be one of: user, admin." in page
    too_long = console.post("/settings/api-keys", {"label": "x" * 201})
    assert too_long.status_code == 422 and 'id="label-error"' in too_long.get_data(as_text=True)
    missing = console.post("/settings/api-keys", {"role": "user"})
    assert missing.status_code == 422 and 'id="label-error"' in missing.get_data(as_text=True)
    assert _keys(admin_connection, users_tenant) == []


def test_creating_a_key_without_csrf_is_403_and_creates_nothing(
        users_tenant, console_as, admin_connection):
    console = console_as(users_tenant, "owner")
    response = console.post("/settings/api-keys", {"label": "csrf"}, token="")
    assert response.status_code == 403
    assert "api_key" not in response.get_data(as_text=True)
    assert _keys(admin_connection, users_tenant) == []


def test_owner_revokes_a_key(users_tenant, console_as, admin_connection):
    console = console_as(users_tenant, "owner")
    raw, _ = _create_key(console)
    (key_id, _, revoked_at, _) = _keys(admin_connection, users_tenant)[0]
    assert revoked_at is None
    listing = console.get("/settings/api-keys").get_data(as_text=True)
    assert 'data-confirm="Revoke the key Shop website?' in listing
    no_csrf = console.post(f"/settings/api-keys/{key_id}/revoke", token="")
    assert no_csrf.status_code == 403
    assert _keys(admin_connection, users_tenant)[0][2] is None
    response = console.post(f"/settings/api-keys/{key_id}/revoke",
                            csrf_from="/settings/api-keys")
    assert response.status_code == 303
    assert "is revoked" in _text(console.get("/settings/api-keys"))
    assert _keys(admin_connection, users_tenant)[0][2] is not None
    assert users_tenant.anonymous().with_api_key(raw).get("/api/v1/auth/me").status_code == 401


def test_rotation_with_grace_keeps_the_old_key_for_a_while(users_tenant, console_as,
                                                          admin_connection):
    console = console_as(users_tenant, "owner")
    old_raw, _ = _create_key(console)
    old_id = _keys(admin_connection, users_tenant)[0][0]
    response = console.post(f"/settings/api-keys/{old_id}/rotate", {"grace_seconds": "3600"},
                            csrf_from="/settings/api-keys")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    new_raw = _RAW_KEY.search(response.get_data(as_text=True)).group(1)
    assert new_raw != old_raw and "expiring" in _text(response)
    keys = _keys(admin_connection, users_tenant)
    assert len(keys) == 2 and keys[0][3] is not None and keys[0][2] is None
    api = users_tenant.anonymous()
    assert api.with_api_key(old_raw).get("/api/v1/auth/me").status_code == 200
    assert api.with_api_key(new_raw).get("/api/v1/auth/me").status_code == 200
    listing = console.get("/settings/api-keys").get_data(as_text=True)
    assert new_raw not in listing and old_raw not in listing


def test_rotation_without_grace_revokes_the_old_key(users_tenant, console_as,
                                                    admin_connection):
    console = console_as(users_tenant, "owner")
    old_raw, _ = _create_key(console)
    old_id = _keys(admin_connection, users_tenant)[0][0]
    response = console.post(f"/settings/api-keys/{old_id}/rotate", {"grace_seconds": "0"},
                            csrf_from="/settings/api-keys")
    assert response.status_code == 201 and "revoked" in _text(response)
    assert users_tenant.anonymous().with_api_key(old_raw).get("/api/v1/auth/me") \
        .status_code == 401
    again = console.post(f"/settings/api-keys/{old_id}/rotate", {"grace_seconds": "0"},
                         csrf_from="/settings/api-keys")
    assert again.status_code == 404  # a revoked key is not rotated (as the API answers)


def test_invalid_grace_is_422_and_rotates_nothing(users_tenant, console_as, admin_connection):
    console = console_as(users_tenant, "owner")
    _create_key(console)
    key_id = _keys(admin_connection, users_tenant)[0][0]
    for grace in ("-1", "604801", "soon"):
        response = console.post(f"/settings/api-keys/{key_id}/rotate",
                                {"grace_seconds": grace}, csrf_from="/settings/api-keys")
        assert response.status_code == 422, grace
        assert "grace_seconds" in _text(response)
    assert len(_keys(admin_connection, users_tenant)) == 1
    no_csrf = console.post(f"/settings/api-keys/{key_id}/rotate", {"grace_seconds": "0"},
                           token="")
    assert no_csrf.status_code == 403
    assert len(_keys(admin_connection, users_tenant)) == 1


def test_another_tenants_key_is_404_and_untouched(users_tenant, make_tenant, console_as,
                                                  admin_connection):
    other = make_tenant()
    _create_key(console_as(other, "owner"), "Other shop")
    other_key = _keys(admin_connection, other)[0]
    console = console_as(users_tenant, "owner")
    for action in ("revoke", "rotate"):
        response = console.post(f"/settings/api-keys/{other_key[0]}/{action}",
                                {"grace_seconds": "0"}, csrf_from="/settings/api-keys")
        assert response.status_code == 404, action
    assert _keys(admin_connection, other) == [other_key]
    assert "Other shop" not in console.get("/settings/api-keys").get_data(as_text=True)
    assert _keys(admin_connection, users_tenant) == []


# --------------------------------------------------------------------------- dashboard


def test_owner_dashboard_shows_users_and_keys_tiles(users_tenant, console_as):
    users_tenant.add_user("cashier")
    console = console_as(users_tenant, "owner")
    _create_key(console)
    page = _text(console.get("/"))
    assert "<dt>Active owners</dt><dd>1</dd>" in page
    assert "<dt>Active cashiers</dt><dd>1</dd>" in page
    assert "<dt>Keys in use</dt><dd>1</dd>" in page
    cashier_page = _text(console_as(users_tenant, "cashier").get("/"))
    assert "Active owners" not in cashier_page and "Keys in use" not in cashier_page
