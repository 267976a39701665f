"""Faults map to clean answers (issue 11, item 3): a backend terminated between requests or
during one, a pool with no free connection, and failures after the view's work — never a 500.

- A pooled connection whose backend died is replaced before the next request uses it (the
  pool's checkout check, core/pool_check.py): the request after a termination succeeds.
- A request whose backend dies under it, or that waits longer than DB_POOL_TIMEOUT for a
  connection, answers 503 with Retry-After.
- Nothing answers success for work that was not committed: the request commits once, in the
  pipeline, with its usage count; a failure there (the connection dying, the count locked)
  answers 503/409 and keeps nothing of the request.

The probe views live on a test-only plugin (``EXTRA_PLUGINS``) whose blueprint is a platform
one, called with the bootstrap token (no database work before the view but the schema check).
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from flask.views import MethodView
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core import create_app
from core.blueprint import Blueprint
from core.extensions import db
from core.pipeline import before_request_commit
from core.plugins import Module, hookimpl
from core.provisioning import connect_admin
from core.routing import PLATFORM_BLUEPRINT_ATTR
from core.testing.app import BOOTSTRAP_TOKEN, PLATFORM_HOST, HostClient, app_config

# --------------------------------------------------------------------------- the probe plugin

probe_blp = Blueprint("faultprobe", __name__, url_prefix="/api/v1/faultprobe")
setattr(probe_blp, PLATFORM_BLUEPRINT_ATTR, True)


def _scalar(sql: str, **params):
    return db.session.execute(text(sql), params).scalar_one()


@probe_blp.route("/pid")
class Pid(MethodView):
    @probe_blp.requires_platform
    def get(self):
        """The backend serving this request."""
        return {"pid": _scalar("SELECT pg_backend_pid()")}


@probe_blp.route("/sleep/<int:milliseconds>")
class Sleep(MethodView):
    @probe_blp.requires_platform
    def get(self, milliseconds):
        """A statement that takes ``milliseconds``."""
        _scalar("SELECT pg_sleep(:s)::text", s=milliseconds / 1000)
        return {"slept": milliseconds}


@probe_blp.route("/limits")
class Limits(MethodView):
    @probe_blp.requires_platform
    def get(self):
        """The time limits the request's transaction runs with."""
        row = db.session.execute(text("SELECT current_setting('statement_timeout'), "
                                      "current_setting('lock_timeout')")).one()
        return {"statement_timeout": row[0], "lock_timeout": row[1]}


@probe_blp.route("/tenants")
class TenantCount(MethodView):
    @probe_blp.requires_platform
    def get(self):
        """Reads the tenants table (waits for a lock an admin holds on it)."""
        return {"tenants": _scalar("SELECT count(*) FROM tenants")}


@probe_blp.route("/write/<string:mode>")
class Write(MethodView):
    @probe_blp.requires_platform
    def post(self, mode):
        """Writes a row (flushes, as every view), then the connection dies before the
        request's one commit."""
        row_id = str(uuid.uuid4())
        db.session.execute(text("INSERT INTO fault_probe_writes (id) VALUES (:id)"),
                           {"id": row_id})
        before_request_commit(lambda _response: db.session.execute(
            text("SELECT pg_terminate_backend(pg_backend_pid())")))
        return {"id": row_id}, 201


class _FaultProbePlugin:
    @hookimpl
    def tenantry_module(self):
        return Module(key="faultprobe", name="Fault probe", version="0.1.0",
                      tenant_toggleable=False)

    @hookimpl
    def tenantry_register_blueprints(self, app, api):
        return [probe_blp]


PROBE = ("faultprobe", _FaultProbePlugin())
PLATFORM_BEARER = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}


def probe_app(database, **settings):
    """An app on ``database`` (already migrated) with the probe views."""
    return create_app(app_config(database, EXTRA_PLUGINS=[PROBE], **settings))


def probe_client(application) -> HostClient:
    return HostClient(application.test_client(), PLATFORM_HOST).with_token(BOOTSTRAP_TOKEN)


def assert_503_with_retry_after(response):
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True))
    assert response.json["code"] == 503
    assert response.headers.get("Retry-After", "").isdigit()


def wait_for(condition, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def backend_gone(admin, pid) -> bool:
    return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                         (pid,)).fetchone()[0] == 0


@pytest.fixture(scope="module")
def faults_app(app, database):
    application = probe_app(database)
    yield application
    with application.app_context():
        db.engine.dispose()


# --------------------------------------------------------------------------- terminated backends


def test_a_backend_terminated_between_requests_costs_no_request(faults_app, admin_connection):
    client = probe_client(faults_app)
    first = client.get("/api/v1/faultprobe/pid")
    assert first.status_code == 200, first.json
    pid = first.json["pid"]
    admin_connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: backend_gone(admin_connection, pid))
    second = client.get("/api/v1/faultprobe/pid")
    assert second.status_code == 200, second.json  # the dead pooled connection was replaced
    assert second.json["pid"] != pid


def test_every_pooled_connection_terminated_as_by_a_restart(faults_app, admin_connection):
    client = probe_client(faults_app)
    # Fill the pool with several connections (a few threads at once).
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        probe_client(faults_app).get("/api/v1/faultprobe/sleep/200").status_code))
        for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200, 200]
    pids = [row[0] for row in admin_connection.execute(
        "SELECT pid FROM pg_stat_activity WHERE usename = %s AND datname = current_database()",
        (_app_role(faults_app),))]
    assert pids
    for pid in pids:
        admin_connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: all(backend_gone(admin_connection, pid) for pid in pids))
    statuses = [client.get("/api/v1/faultprobe/pid").status_code for _ in range(5)]
    assert statuses == [200] * 5


def test_a_backend_terminated_during_a_request_answers_503(faults_app, admin_connection):
    client = probe_client(faults_app)
    answers = []
    request = threading.Thread(target=lambda: answers.append(
        probe_client(faults_app).get("/api/v1/faultprobe/sleep/4000")))
    started = time.monotonic()
    request.start()
    pid = wait_for(lambda: (admin_connection.execute(
        "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%' "
        "AND datname = current_database()").fetchone() or [None])[0])
    admin_connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
    request.join(10)
    assert time.monotonic() - started < 3.5  # answered when the backend died, not after 4 s
    assert_503_with_retry_after(answers[0])
    assert "traceback" not in answers[0].get_data(as_text=True).lower()
    assert client.get("/api/v1/faultprobe/pid").status_code == 200  # and the next one is fine


def test_driver_protocol_confusion_answers_503_and_the_connection_is_replaced(faults_app):
    """psycopg's ``InternalError`` without a SQLSTATE ("received 2 results from command
    'BEGIN'", seen through pgbouncer during a PostgreSQL restart) means the connection is
    unusable: 503, the connection is invalidated, and the next request runs on a new one."""
    from sqlalchemy import event

    client = probe_client(faults_app)
    first = client.get("/api/v1/faultprobe/pid")
    assert first.status_code == 200, first.json
    armed = []

    def confuse(conn, cursor, statement, parameters, context, executemany):
        if armed and "pg_backend_pid" in statement:
            armed.clear()
            raise psycopg.InternalError("received 2 results from command 'BEGIN'")

    with faults_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", confuse)
    try:
        armed.append(True)
        confused = client.get("/api/v1/faultprobe/pid")
        assert_503_with_retry_after(confused)
        after = client.get("/api/v1/faultprobe/pid")
        assert after.status_code == 200, after.json
        assert after.json["pid"] != first.json["pid"]  # the confused connection was discarded
    finally:
        event.remove(engine, "before_cursor_execute", confuse)


# --------------------------------------------------------------------------- the pool


def test_no_free_pooled_connection_answers_503_and_liveness_still_answers(app, database):
    application = probe_app(database, DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=1)
    client = probe_client(application)
    with application.app_context():
        held = db.engine.connect()  # the pool's only connection
        try:
            started = time.monotonic()
            assert client.get("/healthz").status_code == 200
            assert time.monotonic() - started < 0.5  # liveness waits for no connection
            busy = client.get("/api/v1/faultprobe/pid")
            assert_503_with_retry_after(busy)
            assert "no pooled connection" in busy.json["message"]
            ready = client.get("/readyz")
            assert_503_with_retry_after(ready)
            assert "busy" in ready.json["message"]
        finally:
            held.close()
        assert client.get("/api/v1/faultprobe/pid").status_code == 200
        db.engine.dispose()


# --------------------------------------------------------------------------- after the view


def _app_role(application) -> str:
    return make_url(application.config["DATABASE_URL"]).username


@pytest.fixture(scope="module")
def writes_app(app, database):
    """The probe app with a table of its own to write to (dropped afterwards)."""
    with connect_admin(database.admin_url) as admin:
        admin.execute("CREATE TABLE fault_probe_writes (id uuid PRIMARY KEY)")
        admin.execute(f"GRANT SELECT, INSERT ON fault_probe_writes TO {_app_role(app)}")
    application = probe_app(database)
    yield application
    with application.app_context():
        db.engine.dispose()
    with connect_admin(database.admin_url) as admin:
        admin.execute("DROP TABLE fault_probe_writes")


def _stored_count(database) -> int:
    with connect_admin(database.admin_url) as admin:
        return admin.execute("SELECT count(*) FROM fault_probe_writes").fetchone()[0]


def test_an_uncommitted_write_answers_503_and_keeps_nothing(writes_app, database):
    before = _stored_count(database)
    response = probe_client(writes_app).post("/api/v1/faultprobe/write/open")
    assert_503_with_retry_after(response)
    assert _stored_count(database) == before


# --------------------------------------------------------------------------- usage counting


@pytest.fixture
def counters_locked(database):
    """Billing's counter rows cannot be written (an admin holds a lock on the table)."""
    connection = psycopg.connect(make_conninfo(database.admin_url))
    connection.execute("LOCK TABLE billing_usage_totals IN EXCLUSIVE MODE")  # reads still pass
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def make_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="module")
def metered_app(app, database):
    application = create_app(app_config(database, LOCK_TIMEOUT_MS=300))
    yield application
    with application.app_context():
        db.engine.dispose()


def _clinic(application):
    from tests.fixtures.apikeys import bootstrap_over_http

    return bootstrap_over_http(application.test_client())


def _case_count(database, tenant_id) -> int:
    with connect_admin(database.admin_url) as admin:
        return admin.execute("SELECT count(*) FROM cases WHERE tenant_id = %s",
                             (tenant_id,)).fetchone()[0]


def test_counting_that_fails_after_an_update_answers_409_and_keeps_nothing(
        metered_app, database, request):
    clinic = _clinic(metered_app)
    created = clinic.clincore().post("/cases", json={"title": "before"})
    assert created.status_code == 201, created.json
    request.getfixturevalue("counters_locked")
    changed = clinic.clincore().patch(f"/cases/{created.json['id']}", json={"title": "after"})
    # The update and its count commit together in the pipeline: the count waited
    # LOCK_TIMEOUT_MS, so neither is kept and the caller retries.
    assert changed.status_code == 409, changed.get_data(as_text=True)
    with connect_admin(database.admin_url) as admin:
        title = admin.execute("SELECT title FROM cases WHERE id = %s",
                              (created.json["id"],)).fetchone()[0]
    assert title == "before"


def test_counting_that_fails_before_the_commit_answers_503_and_keeps_nothing(
        metered_app, database, request):
    clinic = _clinic(metered_app)
    before = _case_count(database, clinic.id)
    request.getfixturevalue("counters_locked")
    refused = clinic.clincore().post("/cases", json={"title": "not kept"})
    # POST /cases commits once, in the pipeline, with its count: both or neither. The count
    # waited LOCK_TIMEOUT_MS for the lock: a conflict to retry, as for any lock timeout.
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert "locked" in refused.json["message"]
    assert _case_count(database, clinic.id) == before


# --------------------------------------------------------------------------- the checkout check


def test_the_checkout_check_tells_a_dead_connection_from_an_idle_one(database, admin_connection):
    """``core.pool_check.looks_dead``: an idle connection is alive (nothing to read), one whose
    backend was terminated is dead once the server's farewell arrives, and a closed one is
    dead — all without sending anything."""
    from core.pool_check import looks_dead

    with psycopg.connect(database.app_url.replace("+psycopg", "", 1)) as connection:
        pid = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
        connection.rollback()
        assert not looks_dead(connection)
        admin_connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
        wait_for(lambda: looks_dead(connection))
        assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert looks_dead(connection)  # closed by the with block
