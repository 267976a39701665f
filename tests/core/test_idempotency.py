"""The Idempotency-Key facility (core.idempotency), through the third-party notes plugin's
idempotent create endpoint: replay, 422 for another body, 409 for a duplicate still running
(really concurrent, on threads), no stuck key when the first request's transaction dies,
release on failure, keys per tenant and per caller, legacy records, expiry and purge, and the
migration that scoped keys to callers."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core import create_app
from core.auth.apikey_services import create_key
from core.extensions import db
from core.idempotency import lock_name
from core.provisioning import connect_admin
from core.rls import tenant_context
from core.schema_migrations import alembic_config
from core.tenant_lifecycle import create_tenant, create_user
from core.testing.app import HostClient, app_config
from core.testing.tenants import PASSWORD
from tests.fixtures.plugins import THIRDPARTY_SRC

NOTES = "/api/v1/notes"
ENDPOINT = f"POST {NOTES}"
WAIT = 10  # seconds a test waits for another thread before it fails
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def notes(notes_app, fresh_database):
    """Owners of two tenants with the notes module, on the notes app; ``login(slug, role)``
    logs another user of a tenant in, ``api_key(slug)`` issues an admin API key."""
    client = notes_app.test_client()
    handles = {}
    with notes_app.app_context():
        for slug in ("idem-a", "idem-b"):
            tenant = create_tenant(slug=slug, name=slug, owner_email=f"o@{slug}.test",
                                   owner_password=PASSWORD, modules={"notes": {}})
            handles[slug] = tenant.id
        db.session.commit()

    def login(slug, email=None):
        host = HostClient(client, f"{slug}.tenantry.test")
        response = host.post("/api/v1/auth/login", json={
            "email": email or f"o@{slug}.test", "password": PASSWORD})
        assert response.status_code == 200, response.json
        return host.with_token(response.json["access_token"])

    def second_user(slug):
        email = f"admin-{uuid.uuid4().hex[:6]}@{slug}.test"
        with notes_app.app_context():
            create_user(handles[slug], email=email, password=PASSWORD, role="admin")
            db.session.commit()
        return login(slug, email)

    def api_key(slug):
        with notes_app.app_context():
            issued = create_key(handles[slug], label="idem", role="admin", created_by="test")
            db.session.commit()
        return HostClient(client, f"{slug}.tenantry.test", api_key=issued.raw)

    return {"a": login("idem-a"), "b": login("idem-b"), "ids": handles, "app": notes_app,
            "second_user": second_user, "api_key": api_key,
            "admin_url": fresh_database.admin_url}


def _count(app, tenant_id) -> int:
    from tenantry_notes.models import Note

    with app.app_context(), tenant_context(tenant_id):
        return db.session.execute(select(func.count()).select_from(Note)).scalar_one()


def _records(admin_url) -> list[tuple]:
    with connect_admin(admin_url) as admin:
        return admin.execute("SELECT caller, key, response_status FROM idempotency_keys "
                             "ORDER BY caller, key").fetchall()


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


def test_a_key_whose_lock_another_transaction_holds_is_409_at_once(notes):
    """The documented lock name: whoever holds it runs the key now."""
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    me = notes["a"].get("/api/v1/auth/me").json
    name = lock_name(tenant_id, f"user:{me['id']}", ENDPOINT, "k-3")
    with connect_admin(notes["admin_url"]) as holder:
        holder.autocommit = False
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))
        started = time.monotonic()
        response = _post(notes["a"], "k-3", {"title": "busy"})
        assert time.monotonic() - started < WAIT
        assert response.status_code == 409
        assert "still being processed" in response.json["message"]
        holder.rollback()
    assert _count(app, tenant_id) == 0
    assert _post(notes["a"], "k-3", {"title": "busy"}).status_code == 201  # lock gone


def _backend_waiting_on_notes(admin_url, timeout=WAIT) -> int:
    """The pid of the backend whose INSERT into ``notes`` waits for a lock."""
    deadline = time.monotonic() + timeout
    with connect_admin(admin_url) as observer:
        while time.monotonic() < deadline:
            row = observer.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO notes%'").fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    raise AssertionError("the request never reached its INSERT")


class _HeldRequest:
    """A request on its own thread whose view is held at its INSERT into ``notes`` by a table
    lock an admin connection keeps (SHARE mode lets reads through, not inserts)."""

    def __init__(self, notes, client, key, body):
        self.admin_url = notes["admin_url"]
        self.admin = connect_admin(self.admin_url)
        self.admin.autocommit = False
        self.admin.execute("LOCK TABLE notes IN SHARE MODE")
        self.response = self.error = None
        self.thread = threading.Thread(target=self._run, args=(client, key, body))
        self.thread.start()
        # Whatever the code under test does, the held request ends: a hung test is no answer.
        self.safety = threading.Timer(3 * WAIT, self.release)
        self.safety.start()
        self.pid = _backend_waiting_on_notes(self.admin_url)

    def _run(self, client, key, body):
        try:
            self.response = _post(client, key, body)
        except DBAPIError as exc:  # a killed connection: the testing app propagates it
            self.error = exc

    def holds_an_advisory_lock(self) -> bool:
        return bool(self.admin.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory' "
            "AND granted", (self.pid,)).fetchone()[0])

    def release(self):
        if not self.admin.closed:
            self.admin.rollback()

    def finish(self):
        self.release()
        self.thread.join(WAIT)
        self.safety.cancel()
        self.admin.close()
        assert not self.thread.is_alive()


def test_a_concurrent_duplicate_is_409_at_once_then_replays(notes):
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    body = {"title": "concurrent"}
    held = _HeldRequest(notes, notes["a"], "k-c", body)
    try:
        assert held.holds_an_advisory_lock()
        started = time.monotonic()
        duplicate = _post(notes["a"], "k-c", body)
        assert time.monotonic() - started < WAIT
        assert duplicate.status_code == 409, duplicate.json
        assert "still being processed" in duplicate.json["message"]
    finally:
        held.finish()
    assert held.error is None and held.response.status_code == 201, held.error
    replay = _post(notes["a"], "k-c", body)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == held.response.json
    assert _count(app, tenant_id) == 1


def test_a_transaction_killed_mid_request_leaves_no_stuck_key(notes):
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    body = {"title": "crash"}
    held = _HeldRequest(notes, notes["a"], "k-crash", body)
    try:
        held.admin.execute("SELECT pg_terminate_backend(%s)", (held.pid,))
    finally:
        held.finish()
    assert held.error is not None or held.response.status_code >= 500
    assert _count(app, tenant_id) == 0
    started = time.monotonic()
    retry = _post(notes["a"], "k-crash", body)
    assert time.monotonic() - started < WAIT
    assert retry.status_code == 201, retry.json
    assert "Idempotent-Replayed" not in retry.headers
    assert _count(app, tenant_id) == 1
    assert _post(notes["a"], "k-crash", body).headers["Idempotent-Replayed"] == "true"
    assert _count(app, tenant_id) == 1


# A worker process: the notes app on the test database, posting once with a bearer token.
_WORKER = """
import sys, types
sys.path.insert(0, sys.argv[1])
from core import create_app
from core.testing.app import HostClient, app_config
database = types.SimpleNamespace(app_url=sys.argv[2], owner_url=sys.argv[3])
client = HostClient(create_app(app_config(database)).test_client(), sys.argv[4], sys.argv[5])
client.post("/api/v1/notes", json={"title": "killed"}, headers={"Idempotency-Key": sys.argv[6]})
"""


def test_a_worker_killed_mid_request_leaves_no_stuck_key(notes, fresh_database):
    """SIGKILL: nothing of the worker's own code runs afterwards; its connection closing is
    all PostgreSQL sees. Retries with the key run within seconds, once."""
    app, tenant_id, owner = notes["app"], notes["ids"]["idem-a"], notes["a"]
    admin = connect_admin(notes["admin_url"])
    admin.autocommit = False
    admin.execute("LOCK TABLE notes IN SHARE MODE")
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(THIRDPARTY_SRC), fresh_database.app_url,
         fresh_database.owner_url, owner.host, owner.token, "k-sigkill"],
        cwd=REPO_ROOT)
    try:
        _backend_waiting_on_notes(notes["admin_url"], timeout=6 * WAIT)
        worker.send_signal(signal.SIGKILL)
        worker.wait(WAIT)
    finally:
        if worker.poll() is None:
            worker.kill()
        admin.rollback()
        admin.close()
    deadline = time.monotonic() + 5  # the backend notices its client is gone, and rolls back
    while True:
        retry = _post(owner, "k-sigkill", {"title": "killed"})
        if retry.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert retry.status_code == 201, retry.json
    assert "Idempotent-Replayed" not in retry.headers
    assert _post(owner, "k-sigkill", {"title": "killed"}).headers["Idempotent-Replayed"] == \
        "true"
    assert _count(app, tenant_id) == 1


def test_a_failed_request_releases_its_key(notes):
    invalid = _post(notes["a"], "k-5", {"title": ""})
    assert invalid.status_code == 422
    assert _records(notes["admin_url"]) == []  # nothing stored for a failure
    valid = _post(notes["a"], "k-5", {"title": "fixed"})
    assert valid.status_code == 201  # the same key works with the corrected body
    assert "Idempotent-Replayed" not in valid.headers


def test_keys_are_scoped_per_tenant(notes):
    a = _post(notes["a"], "shared", {"title": "a"})
    b = _post(notes["b"], "shared", {"title": "a"})
    assert a.status_code == b.status_code == 201
    assert a.json["id"] != b.json["id"]
    assert "Idempotent-Replayed" not in b.headers


@pytest.mark.parametrize("other", ["second_user", "api_key"])
def test_keys_are_scoped_per_caller(notes, other):
    """Another user, or an API key, of the same tenant reusing a key runs its own request."""
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    mine, theirs = notes["a"], notes[other]("idem-a")
    first = _post(mine, "shared", {"title": "same"})
    second = _post(theirs, "shared", {"title": "same"})
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.json["id"] != second.json["id"]
    assert _count(app, tenant_id) == 2
    # Each caller replays its own answer, and a different body is refused for each.
    assert _post(mine, "shared", {"title": "same"}).json["id"] == first.json["id"]
    assert _post(theirs, "shared", {"title": "same"}).json["id"] == second.json["id"]
    assert _post(theirs, "shared", {"title": "other"}).status_code == 422
    assert _count(app, tenant_id) == 2
    callers = [row[0] for row in _records(notes["admin_url"])]
    assert len(set(callers)) == 2
    assert {c.split(":")[0] for c in callers} == {"user", other.replace("second_", "")}


def test_legacy_records_answer_every_caller_of_their_tenant_until_they_expire(notes):
    """Records stored before keys were scoped to callers keep their old (tenant-wide) meaning."""
    app, tenant_id = notes["app"], notes["ids"]["idem-a"]
    stored = _post(notes["a"], "old", {"title": "legacy"})
    with connect_admin(notes["admin_url"]) as admin:
        admin.execute("UPDATE idempotency_keys SET caller = '*' WHERE key = 'old'")
    replay = _post(notes["second_user"]("idem-a"), "old", {"title": "legacy"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == stored.json
    assert _post(notes["api_key"]("idem-a"), "old", {"title": "x"}).status_code == 422
    assert _post(notes["b"], "old", {"title": "legacy"}).headers.get(
        "Idempotent-Replayed") is None  # another tenant never sees it
    with connect_admin(notes["admin_url"]) as admin:
        admin.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
                      "WHERE caller = '*'")
    fresh = _post(notes["a"], "old", {"title": "legacy"})
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert _count(app, tenant_id) == 2


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
    # The expired record was replaced by the new answer, which replays.
    assert _post(notes["a"], "k-6", {"title": "old"}).json == fresh.json
    assert len(_records(notes["admin_url"])) == 1


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


# --------------------------------------------------------------------------- migration


def test_the_migration_keeps_completed_answers_for_every_caller_and_drops_claims(
        fresh_database):
    """c0a1f0000003 on a database holding a completed record and an abandoned claim."""
    app = create_app(app_config(fresh_database))
    tenant_id = uuid.uuid4()
    with app.app_context():
        command.upgrade(alembic_config(), "c0a1f0000002")
        with connect_admin(fresh_database.admin_url) as admin:
            admin.execute("INSERT INTO tenants (id, slug, name) VALUES (%s, 'mig', 'Mig')",
                          (tenant_id,))
            admin.execute(
                "INSERT INTO idempotency_keys (tenant_id, key, endpoint, request_hash, "
                "response_status, response_body, completed_at) VALUES "
                "(%s, 'done', 'POST /x', 'h', 201, '{\"id\": 1}', now()), "
                "(%s, 'claim', 'POST /x', 'h', NULL, NULL, NULL)", (tenant_id, tenant_id))
        command.upgrade(alembic_config(), "c0a1f0000003")
        with connect_admin(fresh_database.admin_url) as admin:
            rows = admin.execute("SELECT caller, key, response_status, response_body "
                                 "FROM idempotency_keys").fetchall()
            assert rows == [("*", "done", 201, {"id": 1})]
            primary_key = admin.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'pk_idempotency_keys'").fetchone()[0]
            assert primary_key == "PRIMARY KEY (tenant_id, caller, key, endpoint)"
            admin.execute(
                "INSERT INTO idempotency_keys (tenant_id, caller, key, endpoint, request_hash, "
                "response_status, created_at) VALUES "
                "(%s, 'user:1', 'done', 'POST /x', 'h', 201, now() + interval '1 second')",
                (tenant_id,))
            with pytest.raises(psycopg.errors.NotNullViolation):
                admin.execute("INSERT INTO idempotency_keys (tenant_id, caller, key, endpoint, "
                              "request_hash) VALUES (%s, 'user:1', 'k', 'POST /x', 'h')",
                              (tenant_id,))
        command.downgrade(alembic_config(), "c0a1f0000002")
        with connect_admin(fresh_database.admin_url) as admin:
            rows = admin.execute("SELECT key, response_status, completed_at IS NOT NULL "
                                 "FROM idempotency_keys").fetchall()
            assert rows == [("done", 201, True)]  # the newest answer of the key is kept
