"""The owner's audit log page (core/console/audit_pages.py) through the Flask test client: it
shows what the console itself did (a role change made on the users page appears with the
owner's e-mail and the before → after), filters by area, pages, redirects without a session,
refuses admins and cashiers, and shows no other tenant's events."""

from __future__ import annotations

import html

import pytest

from core.testing.console import ConsoleClient

PATH = "/settings/audit"


@pytest.fixture
def users_tenant(make_tenant):
    return make_tenant(modules=["users"])


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_console_change_shows_on_the_audit_page(users_tenant, console_as, admin_connection):
    email = users_tenant.add_user("cashier")
    user_id = admin_connection.execute(
        "SELECT id FROM users WHERE tenant_id = %s AND email = %s",
        (users_tenant.id, email)).fetchone()[0]
    console = console_as(users_tenant, "owner")
    assert console.post(f"/users/{user_id}/role", {"role": "admin"},
                        csrf_from=f"/users/{user_id}").status_code == 303
    page = console.get(PATH)
    assert page.status_code == 200
    text = _text(page)
    assert "user.updated" in text and "cashier → admin" in text
    assert users_tenant.users["owner"] in text  # the actor, by e-mail
    assert "1 event." in text
    assert 'href="/settings/audit"' in console.get("/settings").get_data(as_text=True)


def test_areas_filter_and_unknown_areas_show_everything(users_tenant, console_as):
    console = console_as(users_tenant, "owner")
    console.post("/settings/api-keys", {"label": "till", "role": "user"}, csrf_from="/")
    keys = _text(console.get(PATH, query_string={"area": "api_key."}))
    assert "api_key.created" in keys and "1 event." in keys
    assert "0 events." in _text(console.get(PATH, query_string={"area": "user."}))
    assert "api_key.created" in _text(console.get(PATH, query_string={"area": "nope"}))


def test_the_page_is_paginated(users_tenant, console_as, app):
    from core.audit import record_audit
    from core.extensions import db

    with app.app_context():
        for n in range(55):
            record_audit(users_tenant.id, "test.event", target_type="test", target_id=n)
        db.session.commit()
    console = console_as(users_tenant, "owner")
    first = _text(console.get(PATH))
    assert "55 events." in first and 'rel="next"' in first
    assert _text(console.get(PATH, query_string={"page": 2})).count("test.event") == 5


def test_no_session_redirects_and_other_roles_are_refused(app, users_tenant, console_as):
    response = ConsoleClient(app, users_tenant.host).get(PATH)
    assert response.status_code == 303 and response.headers["Location"] == f"/login?next={PATH}"
    for role in ("admin", "cashier"):
        assert console_as(users_tenant, role).get(PATH).status_code == 403


def test_another_tenants_events_are_not_shown(users_tenant, make_tenant, console_as):
    other = make_tenant(modules=["users"])
    console_as(other, "owner").post("/settings/api-keys", {"label": "theirs", "role": "user"},
                                    csrf_from="/")
    assert "0 events." in _text(console_as(users_tenant, "owner").get(PATH))
