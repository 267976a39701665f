"""Signed webhooks (issue 17, item 5): endpoints the owner manages, events queued in the
transaction that caused them, deliveries signed per Standard Webhooks and verified here with
the reference library (also across a secret rotation), order per endpoint through an outage,
dead letters, byte-identical replay, and the SSRF guard at registration and at every send."""

from __future__ import annotations

import ipaddress
import json
import uuid

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from core.extensions import db
from tests.core.webhook_receiver import start_receiver

WEBHOOKS = "/api/v1/tenant/webhooks"
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def receiver():
    started = start_receiver()
    yield started
    started.stop()


@pytest.fixture
def loopback_allowed(app, monkeypatch):
    """Tests receive on 127.0.0.1, which the guard refuses unless explicitly allowed."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", LOOPBACK)


@pytest.fixture
def clinic(make_tenant):
    return make_tenant(modules=["cases", "users"])


def _subscribe(owner, url, **fields):
    response = owner.post(f"{WEBHOOKS}/endpoints", json={"url": url, **fields})
    assert response.status_code == 201, response.json
    return response.json


def _deliver(app, tenant_id, due_only=False):
    from core.webhooks.delivery import deliver

    with app.app_context():
        return deliver(tenant_id, due_only=due_only)


def _open_case(client, title="Fever"):
    response = client.post("/api/v1/cases", json={"title": title, "patient_ref": "P-1"})
    assert response.status_code == 201, response.json
    return response.json


def _verified(secret, item):
    return Webhook(secret).verify(item.body, item.headers)


def test_events_arrive_signed_in_order_and_verify_with_the_reference_library(
        app, clinic, receiver, loopback_allowed):
    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url, description="ERP")
    assert endpoint["secret"].startswith("whsec_") and endpoint["event_types"] == []
    cases = [_open_case(owner, f"case {n}") for n in range(3)]
    assert owner.patch("/api/v1/tenant/settings", json={"modules": {"pos": {"enabled": True}}}
                       ).status_code == 200
    assert receiver.received == []  # nothing leaves before the worker runs

    assert _deliver(app, clinic.id) == (6, 0, 0)  # 3 cases, pos + catalog + sales enabled
    payloads = [_verified(endpoint["secret"], item) for item in receiver.received]
    assert [p["type"] for p in payloads] == ["cases.case.created"] * 3 + ["module.enabled"] * 3
    assert [p["data"]["id"] for p in payloads[:3]] == [case["id"] for case in cases]
    assert {p["data"]["module"] for p in payloads[3:]} == {"pos", "catalog", "sales"}
    first = receiver.received[0]
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["webhook-id"].startswith("msg_")
    listed = owner.get(f"{WEBHOOKS}/deliveries", query_string={"status": "delivered"}).json
    assert len(listed) == 6 and all(d["attempts"] == 1 for d in listed)
    detail = owner.get(f"{WEBHOOKS}/deliveries/{listed[-1]['id']}").json
    assert detail["body"].encode() == first.body  # the exact bytes, kept


def test_a_wrong_secret_or_a_changed_body_does_not_verify(app, clinic, receiver,
                                                          loopback_allowed):
    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url)
    _open_case(owner)
    _deliver(app, clinic.id)
    item = receiver.received[0]
    other = _subscribe(owner, receiver.url)
    with pytest.raises(WebhookVerificationError):
        _verified(other["secret"], item)
    tampered = type(item)(item.path, item.headers, item.body.replace(b"Fever", b"Fewer"),
                          item.answered)
    with pytest.raises(WebhookVerificationError):
        _verified(endpoint["secret"], tampered)


def test_subscriptions_filter_by_event_type_and_paused_endpoints_get_nothing_new(
        app, clinic, receiver, loopback_allowed):
    owner = clinic.as_role("owner")
    only_closed = _subscribe(owner, receiver.url, event_types=["cases.case.closed"])
    paused = _subscribe(owner, receiver.url, enabled=False)
    case = _open_case(owner)
    assert owner.patch(f"/api/v1/cases/{case['id']}", json={"status": "closed"},
                       headers={"If-Match": owner.get(f"/api/v1/cases/{case['id']}")
                                .headers["ETag"]}).status_code == 200
    _deliver(app, clinic.id)
    assert [json.loads(item.body)["type"] for item in receiver.received] == ["cases.case.closed"]
    _verified(only_closed["secret"], receiver.received[0])
    assert owner.get(f"{WEBHOOKS}/deliveries",
                     query_string={"endpoint_id": paused["id"]}).json == []


def test_a_tenant_without_endpoints_sends_no_webhook_statement_until_one_exists(
        app, clinic, receiver, loopback_allowed, admin_connection):
    """Whether a tenant has an enabled endpoint is known per state_version: without one an
    event costs no statement; an endpoint added, paused or enabled — here behind this worker's
    back, as another node would — applies to the very next event (the triggers of migration
    c0a1f0000011 bump the version)."""
    from tests.fixtures.statements import statements_sent

    owner = clinic.as_role("owner")
    _open_case(owner)  # the first event of the tenant: the answer (none) is now cached
    sent = statements_sent(app, lambda: _open_case(owner))
    assert not [s for s in sent if "webhook_" in s]
    endpoint = _subscribe(owner, receiver.url, enabled=False)
    _open_case(owner, "While paused")  # none enabled: known again, and cached
    admin_connection.execute("UPDATE webhook_endpoints SET enabled = true WHERE id = %s",
                             (endpoint["id"],))
    _open_case(owner, "Enabled behind the worker's back")
    _deliver(app, clinic.id)
    assert [json.loads(item.body)["data"]["title"] for item in receiver.received] == [
        "Enabled behind the worker's back"]


def test_an_action_that_fails_queues_nothing(app, clinic, receiver, loopback_allowed):
    owner = clinic.as_role("owner")
    _subscribe(owner, receiver.url)
    assert owner.post("/api/v1/cases", json={"title": ""}).status_code == 422
    assert owner.get(f"{WEBHOOKS}/deliveries").json == []


def test_rotation_signs_with_both_secrets_during_the_grace_window(app, clinic, receiver,
                                                                  loopback_allowed):
    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url)
    path = f"{WEBHOOKS}/endpoints/{endpoint['id']}"
    rotated = owner.post(f"{path}/secret/rotate", json={"grace_hours": 24})
    assert rotated.status_code == 200 and rotated.json["generation"] == 2
    new_secret = rotated.json["secret"]
    assert new_secret != endpoint["secret"]
    assert owner.get(f"{path}/secret").json["secret"] == new_secret
    _open_case(owner)
    _deliver(app, clinic.id)
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    _verified(endpoint["secret"], during)  # a receiver not yet switched
    _verified(new_secret, during)  # and one that already has the new secret

    final = owner.post(f"{path}/secret/rotate", json={"grace_hours": 0}).json["secret"]
    _open_case(owner)
    _deliver(app, clinic.id)
    after = receiver.received[-1]
    _verified(final, after)
    with pytest.raises(WebhookVerificationError):
        _verified(new_secret, after)
    actions = [e["action"] for e in owner.get("/api/v1/tenant/audit",
                                              query_string={"action": "webhook."}).json]
    assert actions == ["webhook.secret_rotated", "webhook.secret_rotated",
                       "webhook.endpoint_created"]


def test_a_receiver_down_gets_every_event_in_order_once_back(app, clinic, receiver,
                                                             loopback_allowed):
    owner = clinic.as_role("owner")
    _subscribe(owner, receiver.url, event_types=["cases.case.created"])
    receiver.status = 503
    ids = [_open_case(owner, f"case {n}")["id"] for n in range(4)]
    assert _deliver(app, clinic.id, due_only=True) == (0, 1, 4)
    assert len(receiver.received) == 1  # the later ones wait behind the first
    pending = owner.get(f"{WEBHOOKS}/deliveries", query_string={"status": "pending"}).json
    failed = [d for d in pending if d["attempts"] == 1]
    assert len(failed) == 1 and failed[0]["last_status_code"] == 503
    assert failed[0]["last_error"] == "HTTP 503"
    assert _deliver(app, clinic.id, due_only=True) == (0, 0, 4)  # its retry is not due yet

    receiver.status = 204
    assert _deliver(app, clinic.id) == (4, 0, 0)
    delivered = [json.loads(item.body)["data"]["id"] for item in receiver.accepted]
    assert delivered == ids
    retried = [item for item in receiver.received if json.loads(item.body)["data"]["id"] == ids[0]]
    assert len({item.headers["webhook-id"] for item in retried}) == 1  # same id on a retry


def test_dead_letters_are_listed_and_a_replay_sends_the_same_bytes(app, clinic, receiver,
                                                                    loopback_allowed,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SCHEDULE", (0,))
    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url)
    receiver.status = 500
    _open_case(owner)
    _open_case(owner, "second")
    _deliver(app, clinic.id)
    _deliver(app, clinic.id)  # the second failure exhausts the schedule: dead, next one goes
    dead = owner.get(f"{WEBHOOKS}/deliveries", query_string={"status": "dead"}).json
    assert len(dead) == 1 and dead[0]["attempts"] == 2
    receiver.status = 204
    _deliver(app, clinic.id)
    assert json.loads(receiver.accepted[0].body)["data"]["title"] == "second"

    original = owner.get(f"{WEBHOOKS}/deliveries/{dead[0]['id']}").json
    replay = owner.post(f"{WEBHOOKS}/deliveries/{dead[0]['id']}/replay")
    assert replay.status_code == 202, replay.json
    assert replay.json["replay_of"] == dead[0]["id"] and replay.json["status"] == "pending"
    assert _deliver(app, clinic.id) == (1, 0, 0)
    sent = receiver.accepted[-1]
    assert sent.body == original["body"].encode()
    assert sent.headers["webhook-id"] == original["message_id"]
    _verified(endpoint["secret"], sent)  # signed afresh: a current timestamp


def test_ping_queues_a_test_message_for_that_endpoint_only(app, clinic, receiver,
                                                            loopback_allowed):
    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url, event_types=["cases.case.closed"])
    _subscribe(owner, receiver.url)
    answer = owner.post(f"{WEBHOOKS}/endpoints/{endpoint['id']}/ping")
    assert answer.status_code == 202 and answer.json == {"queued": 1}
    _deliver(app, clinic.id)
    assert len(receiver.received) == 1
    assert _verified(endpoint["secret"], receiver.received[0]) ["data"] == {
        "endpoint_id": endpoint["id"]}


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/x", "must start with https://"),
    ("https://user:pw@example.com/", "user name or password"),
    ("http://127.0.0.1:8080/hooks", "private, loopback or reserved"),
    ("http://localhost/hooks", "private, loopback or reserved"),
    ("http://10.1.2.3/", "private, loopback or reserved"),
    ("http://169.254.169.254/latest/meta-data", "private, loopback or reserved"),
    ("http://[::1]/", "private, loopback or reserved"),
    ("http://[::ffff:192.168.0.1]/", "private, loopback or reserved"),
    ("https://", "must name a host"),
    ("https://example.com:99999/", "not a valid URL"),
])
def test_urls_that_could_reach_the_server_s_own_network_are_refused(clinic, url, message):
    owner = clinic.as_role("owner")
    answer = owner.post(f"{WEBHOOKS}/endpoints", json={"url": url})
    assert answer.status_code == 422
    assert message in " ".join(answer.json["errors"]["url"])
    assert owner.get(f"{WEBHOOKS}/endpoints").json == []


def test_the_guard_runs_again_at_every_send(app, clinic, receiver, loopback_allowed,
                                            monkeypatch):
    owner = clinic.as_role("owner")
    _subscribe(owner, receiver.url)
    _open_case(owner)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", ())  # the operator withdrew it
    assert _deliver(app, clinic.id) == (0, 1, 1)
    assert receiver.received == []
    failed = owner.get(f"{WEBHOOKS}/deliveries").json[0]
    assert failed["last_status_code"] is None
    assert failed["last_error"].startswith("refused: 127.0.0.1 is a private")


def test_invalid_input_gets_field_errors_and_changes_nothing(clinic, receiver,
                                                             loopback_allowed):
    owner = clinic.as_role("owner")
    bad = owner.post(f"{WEBHOOKS}/endpoints", json={"url": receiver.url,
                                                     "event_types": ["no.such.event"]})
    assert bad.status_code == 422 and "no.such.event" in bad.json["errors"]["event_types"][0]
    assert owner.post(f"{WEBHOOKS}/endpoints", json={}).json["errors"]["json"]["url"]
    endpoint = _subscribe(owner, receiver.url)
    path = f"{WEBHOOKS}/endpoints/{endpoint['id']}"
    assert owner.patch(path, json={"url": "gopher://x"}).status_code == 422
    assert owner.post(f"{path}/secret/rotate", json={"grace_hours": -1}).status_code == 422
    assert owner.get(f"{WEBHOOKS}/deliveries",
                     query_string={"status": "lost"}).status_code == 422
    assert owner.get(path).json["url"] == receiver.url
    assert owner.get(path).json["secret_generation"] == 1
    assert owner.patch(path, json={"description": "CRM", "enabled": False}).json["enabled"] is False
    assert owner.delete(path).status_code == 204
    assert owner.get(path).status_code == 404


def test_only_the_owner_may_manage_webhooks(clinic, receiver, loopback_allowed):
    endpoint = _subscribe(clinic.as_role("owner"), receiver.url)
    paths = [("GET", f"{WEBHOOKS}/events"), ("GET", f"{WEBHOOKS}/endpoints"),
             ("POST", f"{WEBHOOKS}/endpoints"),
             ("GET", f"{WEBHOOKS}/endpoints/{endpoint['id']}"),
             ("GET", f"{WEBHOOKS}/endpoints/{endpoint['id']}/secret"),
             ("POST", f"{WEBHOOKS}/endpoints/{endpoint['id']}/secret/rotate"),
             ("POST", f"{WEBHOOKS}/endpoints/{endpoint['id']}/ping"),
             ("GET", f"{WEBHOOKS}/deliveries")]
    for caller, expected in ((clinic.anonymous(), 401), (clinic.as_role("admin"), 403),
                             (clinic.as_role("cashier"), 403), (clinic.as_api_key("admin"), 403)):
        for method, path in paths:
            answer = caller.open(method, path, json={"url": receiver.url})
            assert answer.status_code == expected, (method, path, answer.json)
            assert "whsec_" not in answer.get_data(as_text=True)


def test_another_tenant_s_endpoints_and_deliveries_are_not_found(
        app, clinic, make_tenant, receiver, loopback_allowed):
    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url)
    owner.post(f"{WEBHOOKS}/endpoints/{endpoint['id']}/ping")
    delivery = owner.get(f"{WEBHOOKS}/deliveries").json[0]
    intruder = make_tenant(modules=["cases"]).as_role("owner")
    for method, path in [("GET", f"/endpoints/{endpoint['id']}"),
                         ("PATCH", f"/endpoints/{endpoint['id']}"),
                         ("DELETE", f"/endpoints/{endpoint['id']}"),
                         ("GET", f"/endpoints/{endpoint['id']}/secret"),
                         ("POST", f"/endpoints/{endpoint['id']}/secret/rotate"),
                         ("POST", f"/endpoints/{endpoint['id']}/ping"),
                         ("GET", f"/deliveries/{delivery['id']}"),
                         ("POST", f"/deliveries/{delivery['id']}/replay"),
                         ("GET", f"/deliveries/{uuid.uuid4()}")]:
        answer = intruder.open(method, WEBHOOKS + path, json={})
        assert answer.status_code == 404, (method, path)
        assert "whsec_" not in answer.get_data(as_text=True)
    assert intruder.get(f"{WEBHOOKS}/deliveries").json == []
    assert intruder.get(f"{WEBHOOKS}/endpoints").json == []
    assert owner.get(f"{WEBHOOKS}/endpoints/{endpoint['id']}").json["enabled"] is True


def test_without_a_signing_key_webhooks_are_refused_and_nothing_is_written(
        app, clinic, receiver, loopback_allowed, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_SIGNING_KEY", None)
    owner = clinic.as_role("owner")
    answer = owner.post(f"{WEBHOOKS}/endpoints", json={"url": receiver.url})
    assert answer.status_code == 409 and "WEBHOOK_SIGNING_KEY" in answer.json["message"]
    assert owner.get(f"{WEBHOOKS}/endpoints").json == []


def test_no_secret_is_stored_or_logged(app, clinic, receiver, loopback_allowed,
                                       admin_connection, caplog):
    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url)
    rotated = owner.post(f"{WEBHOOKS}/endpoints/{endpoint['id']}/secret/rotate", json={}).json
    _open_case(owner)
    _deliver(app, clinic.id)
    stored = json.dumps([list(map(str, row)) for table in (
        "webhook_endpoints", "webhook_deliveries", "audit_events") for row in
        admin_connection.execute(f"SELECT * FROM {table} WHERE tenant_id = %s",
                                 (clinic.id,)).fetchall()])
    for secret in (endpoint["secret"], rotated["secret"]):
        assert secret not in stored and secret[6:] not in stored
        assert secret not in caplog.text


def test_the_catalogue_lists_core_and_plugin_events(clinic):
    events = {e["type"]: e["module"] for e in
              clinic.as_role("owner").get(f"{WEBHOOKS}/events").json}
    assert events["module.enabled"] == "core" and events["webhook.ping"] == "core"
    assert events["cases.case.created"] == "cases"
    assert events["pos.receipt.refunded"] == "pos"
    assert events["sales.sale.completed"] == "sales"


def test_an_undeclared_event_type_is_a_programming_error(app, clinic):
    from core.sdk import emit_webhook_event

    with app.app_context(), pytest.raises(ValueError, match="not declared"):
        emit_webhook_event(clinic.id, "cases.case.exploded", {})
    with app.app_context():
        db.session.rollback()


def _cli_env(database, tmp_path, **overrides):
    from core.testing.app import WEBHOOK_SIGNING_KEY
    from tests.core.commandline import app_env

    return app_env(database, tmp_path, WEBHOOK_SIGNING_KEY=WEBHOOK_SIGNING_KEY,
                   WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32", **overrides)


def test_the_deliver_command_sends_the_queue_and_fails_while_messages_wait(
        database, tmp_path, clinic, receiver, loopback_allowed):
    from tests.core.commandline import tenantry

    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url)
    _open_case(owner)
    receiver.status = 503
    env = _cli_env(database, tmp_path)
    down = tenantry("webhooks", "deliver", "--tenant", clinic.slug, env=env)
    assert down.returncode == 1, down.stderr
    assert "0 delivered, 1 failed, 1 pending" in down.stdout
    receiver.status = 204
    done = tenantry("webhooks", "deliver", "--tenant", clinic.slug, env=env)
    assert done.returncode == 0, done.stderr
    assert "done, 0 message(s) still pending" in done.stdout
    _verified(endpoint["secret"], receiver.accepted[0])
    unknown = tenantry("webhooks", "deliver", "--tenant", "no-such-shop", env=env)
    assert unknown.returncode != 0 and "no tenant 'no-such-shop'" in unknown.stderr
    unsigned = tenantry("webhooks", "deliver", "--loop",
                        env={**env, "WEBHOOK_SIGNING_KEY": ""})
    assert unsigned.returncode == 1 and "set WEBHOOK_SIGNING_KEY" in unsigned.stderr


def test_the_worker_loop_sends_what_is_due_and_stops_on_sigterm(
        database, tmp_path, clinic, receiver, loopback_allowed):
    import subprocess
    import time

    from tests.core.commandline import TENANTRY, stop_server

    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, receiver.url)
    worker = subprocess.Popen([TENANTRY, "webhooks", "deliver", "--loop", "--interval", "0.2"],
                              env=_cli_env(database, tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        _open_case(owner, "while the worker runs")
        deadline = time.monotonic() + 30
        while not receiver.accepted and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_server(worker)
    out = worker.stdout.read()
    assert worker.returncode == 0, worker.stderr.read()
    assert "worker started" in out and "worker stopped" in out
    assert _verified(endpoint["secret"], receiver.accepted[0])["data"]["title"] == \
        "while the worker runs"


def test_the_purge_keeps_waiting_and_recent_messages(database, tmp_path, app, clinic,
                                                     loopback_allowed, admin_connection):
    from tests.core.commandline import tenantry

    owner = clinic.as_role("owner")
    endpoint = _subscribe(owner, "http://127.0.0.1:9/nobody")
    for _ in range(4):
        owner.post(f"{WEBHOOKS}/endpoints/{endpoint['id']}/ping")
    ids = [d["id"] for d in owner.get(f"{WEBHOOKS}/deliveries").json]  # newest first
    admin_connection.execute(
        "UPDATE webhook_deliveries SET created_at = now() - interval '40 days', status = "
        "CASE WHEN id = %s THEN 'delivered' WHEN id = %s THEN 'dead' ELSE status END "
        "WHERE id = ANY(%s)", (ids[3], ids[2], [ids[3], ids[2], ids[1]]))
    admin_connection.execute("UPDATE webhook_deliveries SET status = 'delivered' WHERE id = %s",
                             (ids[0],))  # delivered, but recent
    done = tenantry("webhooks", "purge", env=_cli_env(database, tmp_path))
    assert done.returncode == 0, done.stderr
    assert "webhook deliveries purged:" in done.stdout
    left = {row[0] for row in admin_connection.execute(
        "SELECT id::text FROM webhook_deliveries WHERE tenant_id = %s", (clinic.id,))}
    assert left == {ids[1], ids[0]}  # the old waiting one and the recent delivered one
