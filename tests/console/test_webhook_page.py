"""The owner's webhooks page (core/console/webhook_pages.py) through the Flask test client:
adding an endpoint shows its secret once per POST (no-store), the list and the deliveries
(dead letters filterable, replay queues the same message), pause/ping/rotate/delete, field
errors for a refused URL, CSRF refused, no session redirects, admins and cashiers refused, and
another tenant's endpoints are neither shown nor reachable."""

from __future__ import annotations

import html
import ipaddress
import re
import uuid

import pytest

from core.testing.console import ConsoleClient

PATH = "/settings/webhooks"


@pytest.fixture
def clinic(make_tenant):
    return make_tenant(modules=["cases"])


@pytest.fixture
def loopback_allowed(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS",
                        (ipaddress.ip_network("127.0.0.1/32"),))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _add(console, url="http://127.0.0.1:9/hooks", **fields):
    return console.post(PATH, {"url": url, **fields})


def _endpoint_id(admin_connection, tenant_id):
    return admin_connection.execute("SELECT id FROM webhook_endpoints WHERE tenant_id = %s",
                                    (tenant_id,)).fetchone()[0]


def test_adding_an_endpoint_shows_its_secret_once(clinic, console_as, loopback_allowed):
    console = console_as(clinic, "owner")
    added = console.post(PATH, {"url": "http://127.0.0.1:9/hooks", "description": "ERP",
                                "event_types": "cases.case.created"})
    assert added.status_code == 201
    assert added.headers["Cache-Control"] == "no-store"
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", _text(added)).group(0)
    listing = _text(console.get(PATH))
    assert "http://127.0.0.1:9/hooks" in listing and "cases.case.created" in listing
    assert secret not in listing  # shown only in a POST's answer
    assert 'href="/settings/webhooks"' in console.get("/settings").get_data(as_text=True)


def test_a_refused_url_gets_a_field_error_and_nothing_is_added(clinic, console_as):
    console = console_as(clinic, "owner")
    refused = _add(console, "http://169.254.169.254/latest")
    assert refused.status_code == 422
    assert "private, loopback or reserved" in _text(refused)
    assert "No endpoints yet." in _text(console.get(PATH))
    assert _add(console, "").status_code == 422  # missing URL


def test_actions_on_an_endpoint(clinic, console_as, loopback_allowed, admin_connection):
    console = console_as(clinic, "owner")
    _add(console)
    endpoint_id = _endpoint_id(admin_connection, clinic.id)
    shown = console.post(f"{PATH}/{endpoint_id}/secret", {}, csrf_from=PATH)
    assert shown.status_code == 200 and "whsec_" in _text(shown)
    rotated = console.post(f"{PATH}/{endpoint_id}/rotate", {"grace_hours": "24"},
                           csrf_from=PATH)
    assert rotated.status_code == 200 and "previous secret" in _text(rotated)
    assert console.post(f"{PATH}/{endpoint_id}/rotate", {"grace_hours": "9999"},
                        csrf_from=PATH).status_code == 422
    assert console.post(f"{PATH}/{endpoint_id}/ping", {}, csrf_from=PATH).status_code == 303
    page = _text(console.get(PATH))
    assert "webhook.ping" in page and "waiting" in page and "version 2" in page
    assert console.post(f"{PATH}/{endpoint_id}/switch", {}, csrf_from=PATH).status_code == 303
    assert "paused" in _text(console.get(PATH))
    assert console.post(f"{PATH}/{endpoint_id}/delete", {}, csrf_from=PATH).status_code == 303
    assert "No endpoints yet." in _text(console.get(PATH))


def test_dead_letters_are_filtered_and_replayed(app, clinic, console_as, loopback_allowed,
                                                admin_connection, monkeypatch):
    from core.webhooks.delivery import deliver

    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SCHEDULE", (0,))
    console = console_as(clinic, "owner")
    _add(console, "http://127.0.0.1:9/nobody-listens")
    endpoint_id = _endpoint_id(admin_connection, clinic.id)
    console.post(f"{PATH}/{endpoint_id}/ping", {}, csrf_from=PATH)
    with app.app_context():
        deliver(clinic.id, due_only=False)
        deliver(clinic.id, due_only=False)
    dead = _text(console.get(PATH, query_string={"status": "dead"}))
    assert "dead letter" in dead and "1 delivery;" in dead
    assert "ConnectionRefusedError" in dead
    delivery_id = admin_connection.execute(
        "SELECT id FROM webhook_deliveries WHERE tenant_id = %s AND status = 'dead'",
        (clinic.id,)).fetchone()[0]
    replayed = console.post(f"{PATH}/deliveries/{delivery_id}/replay", {}, csrf_from=PATH)
    assert replayed.status_code == 303
    assert "2 deliveries;" in _text(console.get(PATH))
    assert "1 delivery;" in _text(console.get(PATH, query_string={"status": "pending"}))


def test_a_post_without_the_csrf_token_changes_nothing(clinic, console_as, loopback_allowed):
    console = console_as(clinic, "owner")
    refused = console.post(PATH, {"url": "http://127.0.0.1:9/hooks"}, token="")
    assert refused.status_code == 403
    assert "No endpoints yet." in _text(console.get(PATH))


def test_no_session_redirects_and_other_roles_are_refused(app, clinic, console_as):
    response = ConsoleClient(app, clinic.host).get(PATH)
    assert response.status_code == 303 and response.headers["Location"] == f"/login?next={PATH}"
    for role in ("admin", "cashier"):
        assert console_as(clinic, role).get(PATH).status_code == 403


def test_another_tenant_s_endpoints_are_not_shown_or_reachable(
        clinic, make_tenant, console_as, loopback_allowed, admin_connection):
    _add(console_as(clinic, "owner"))
    endpoint_id = _endpoint_id(admin_connection, clinic.id)
    intruder = console_as(make_tenant(modules=["cases"]), "owner")
    assert "No endpoints yet." in _text(intruder.get(PATH))
    for action in ("secret", "rotate", "ping", "switch", "delete"):
        answer = intruder.post(f"{PATH}/{endpoint_id}/{action}", {"grace_hours": "1"},
                               csrf_from=PATH)
        assert answer.status_code == 404, action
        assert "whsec_" not in answer.get_data(as_text=True)
    assert intruder.post(f"{PATH}/deliveries/{uuid.uuid4()}/replay", {},
                         csrf_from=PATH).status_code == 404
    assert admin_connection.execute("SELECT enabled, secret_generation FROM webhook_endpoints "
                                    "WHERE id = %s", (endpoint_id,)).fetchone() == (True, 1)
