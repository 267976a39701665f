"""The Idempotency-Key facility (core.idempotency), through the third-party notes plugin's
idempotent create endpoint: replay, conflicts, release on failure, per-tenant scope."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select, text

from core.db import tenant_context
from core.extensions import db
from core.tenants import create_tenant
from tests.fixtures.app import HostClient
from tests.fixtures.tenants import PASSWORD

NOTES = "/api/v1/notes"


@pytest.fixture
def notes(notes_app):
    """Owners of two tenants with the notes module, on the notes app."""
    client = notes_app.test_client()
    handles = {}
    with notes_app.app_context():
        for slug in ("idem-a", "idem-b"):
            tenant = create_tenant(slug=slug, name=slug, owner_email=f"o@{slug}.test",
                                   owner_password=PASSWORD, modules={"notes": {}})
            handles[slug] = tenant.id
        db.session.commit()

    def owner(slug):
        host = HostClient(client, f"{slug}.tenantry.test")
        login = host.post("/api/v1/auth/login", json={"email": f"o@{slug}.test",
                                                      "password": PASSWORD})
        return host.with_token(login.json["access_token"])

    return {"a": owner("idem-a"), "b": owner("idem-b"), "ids": handles, "app": notes_app}


def _count(app, tenant_id) -> int:
    from tenantry_notes.models import Note

    with app.app_context(), tenant_context(tenant_id):
        return db.session.execute(select(func.count()).select_from(Note)).scalar_one()


def _post(client, key, body):
    return client.post(NOTES, json=body, headers={"Idempotency-Key": key})


def test_same_key_same_body_replays_the_stored_response(notes):
    first = _post(notes["a"], "k-1", {"title": "once"})
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = _post(notes["a"], "k-1", {"title": "once"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert _count(notes["app"], notes["ids"]["idem-a"]) == 1


def test_same_key_different_body_is_422_and_changes_nothing(notes):
    assert _post(notes["a"], "k-2", {"title": "first"}).status_code == 201
    different = _post(notes["a"], "k-2", {"title": "second"})
    assert different.status_code == 422
    assert "different request body" in different.json["message"]
    assert _count(notes["app"], notes["ids"]["idem-a"]) == 1


def test_a_key_still_running_is_409(notes):
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    with app.app_context(), db.engine.begin() as connection:  # a claim another worker holds
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                           {"t": str(tenant_id)})
        body_hash = hashlib.sha256(b'{"title":"busy"}').hexdigest()  # canonical JSON
        connection.execute(text(
            "INSERT INTO idempotency_keys (key, endpoint, request_hash) "
            "VALUES ('k-3', 'POST /api/v1/notes', :h)"), {"h": body_hash})
    response = _post(notes["a"], "k-3", {"title": "busy"})
    assert response.status_code == 409
    assert "still being processed" in response.json["message"]
    assert _count(app, tenant_id) == 0


def test_an_abandoned_claim_is_taken_over(notes):
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                           {"t": str(tenant_id)})
        connection.execute(text(
            "INSERT INTO idempotency_keys (key, endpoint, request_hash, created_at) "
            "VALUES ('k-4', 'POST /api/v1/notes', 'x', now() - interval '10 minutes')"))
    assert _post(notes["a"], "k-4", {"title": "retried"}).status_code == 201


def test_a_failed_request_releases_its_key(notes):
    invalid = _post(notes["a"], "k-5", {"title": ""})
    assert invalid.status_code == 422
    valid = _post(notes["a"], "k-5", {"title": "fixed"})
    assert valid.status_code == 201  # the same key works with the corrected body
    assert "Idempotent-Replayed" not in valid.headers


def test_keys_are_scoped_per_tenant(notes):
    a = _post(notes["a"], "shared", {"title": "a"})
    b = _post(notes["b"], "shared", {"title": "a"})
    assert a.status_code == b.status_code == 201
    assert a.json["id"] != b.json["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_malformed_keys_are_422(notes):
    for key in ("x" * 256, "has space", ""):
        response = _post(notes["a"], key, {"title": "t"})
        assert response.status_code == 422, key
        assert "Idempotency-Key" in str(response.json["errors"])


def test_expired_records_do_not_replay(notes):
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    assert _post(notes["a"], "k-6", {"title": "old"}).status_code == 201
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                           {"t": str(tenant_id)})
        connection.execute(text("UPDATE idempotency_keys SET created_at = now() - interval "
                                "'25 hours' WHERE key = 'k-6'"))
    fresh = _post(notes["a"], "k-6", {"title": "old"})
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert _count(app, tenant_id) == 2


def test_purge_deletes_only_expired_records_of_every_tenant(notes):
    app = notes["app"]
    assert _post(notes["a"], "keep", {"title": "k"}).status_code == 201
    assert _post(notes["b"], "old", {"title": "o"}).status_code == 201
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                           {"t": str(notes["ids"]["idem-b"])})
        connection.execute(text("UPDATE idempotency_keys SET created_at = now() - interval "
                                "'25 hours' WHERE key = 'old'"))
    result = app.test_cli_runner().invoke(args=["idempotency", "purge"])
    assert result.exit_code == 0, result.output
    assert "idempotency records purged: 1" in result.output
    replay = _post(notes["a"], "keep", {"title": "k"})
    assert replay.headers.get("Idempotent-Replayed") == "true"
