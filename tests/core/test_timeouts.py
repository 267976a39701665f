"""Statement and lock timeouts by default (issue 11, item 3): every web request's transaction
runs with STATEMENT_TIMEOUT_MS and LOCK_TIMEOUT_MS, set transaction-locally in the statement
that already scopes the tenant (no extra round trip, nothing left on the connection for
pgbouncer to carry to another client). A stuck statement answers 503 with Retry-After, a lock
wait 409, both long before gunicorn's 30 s worker timeout; CLI work has no limit.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import event, text

from core import rls
from core.extensions import db
from tests.core.test_faults import assert_503_with_retry_after, probe_app, probe_client


@pytest.fixture(scope="module")
def limited_app(app, database):
    application = probe_app(database, STATEMENT_TIMEOUT_MS=700, LOCK_TIMEOUT_MS=300)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_a_request_runs_with_the_configured_limits(limited_app):
    body = probe_client(limited_app).get("/api/v1/faultprobe/limits").json
    assert body == {"statement_timeout": "700ms", "lock_timeout": "300ms"}


def test_the_defaults_are_below_the_worker_timeout(app, database):
    # deploy/gunicorn.conf.py kills a worker after 30 s; the defaults answer long before.
    application = probe_app(database)
    try:
        assert application.config["STATEMENT_TIMEOUT_MS"] == 5000
        assert application.config["LOCK_TIMEOUT_MS"] == 2000
        body = probe_client(application).get("/api/v1/faultprobe/limits").json
        assert body == {"statement_timeout": "5s", "lock_timeout": "2s"}
    finally:
        with application.app_context():
            db.engine.dispose()


def test_the_limits_cost_no_extra_round_trip(limited_app, monkeypatch):
    """The tenant scope and the limits go to the server as one message at the start of the
    request's transaction; the statements SQLAlchemy sends set nothing."""
    sent, statements = [], []
    real_send = rls._send

    def send(connection, statement):
        sent.append(statement)
        real_send(connection, statement)

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    monkeypatch.setattr(rls, "_send", send)
    with limited_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert probe_client(limited_app).get("/api/v1/faultprobe/limits").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(sent) == 1, sent  # tenant and limits in one message
    assert "SET LOCAL app.tenant_id" in sent[0]
    assert "statement_timeout" in sent[0] and "lock_timeout" in sent[0]
    settings = [s for s in statements if "set_config" in s or s.lstrip().upper().startswith(
        "SET ")]
    assert settings == sent  # nothing else sets anything


def test_the_limits_end_with_the_transaction(limited_app):
    # Nothing stays on the pooled connection: outside a request the server defaults apply.
    client = probe_client(limited_app)
    assert client.get("/api/v1/faultprobe/limits").status_code == 200
    with limited_app.app_context():
        values = db.session.execute(text("SELECT current_setting('statement_timeout'), "
                                         "current_setting('lock_timeout')")).one()
        db.session.rollback()
    assert tuple(values) == ("0", "0")


def test_a_stuck_statement_answers_503_quickly(limited_app):
    started = time.monotonic()
    response = probe_client(limited_app).get("/api/v1/faultprobe/sleep/5000")
    elapsed = time.monotonic() - started
    assert_503_with_retry_after(response)
    assert "took too long" in response.json["message"]
    assert elapsed < 3, f"pg_sleep(5) was not cancelled ({elapsed:.1f} s)"
    assert probe_client(limited_app).get("/api/v1/faultprobe/pid").status_code == 200


def test_a_locked_table_answers_409_quickly_and_liveness_answers(limited_app, database):
    locker = psycopg.connect(database.admin_url.replace("postgresql+psycopg://",
                                                        "postgresql://", 1))
    try:
        locker.execute("LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE")
        client = probe_client(limited_app)
        started = time.monotonic()
        response = client.get("/api/v1/faultprobe/tenants")
        elapsed = time.monotonic() - started
        assert response.status_code == 409, response.get_data(as_text=True)
        assert "locked" in response.json["message"]
        assert elapsed < 2.5, f"the lock wait was not cut at 300 ms ({elapsed:.1f} s)"
        assert client.get("/healthz").status_code == 200
    finally:
        locker.rollback()
        locker.close()
    assert probe_client(limited_app).get("/api/v1/faultprobe/tenants").status_code == 200


def test_reports_still_raise_their_own_limit(limited_app):
    # The report runner sets REPORT_STATEMENT_TIMEOUT_MS in a savepoint; the request's limit
    # comes back after it (see tests/plugins/reports for the runner itself).
    with limited_app.test_request_context():
        db.session.execute(text("SELECT 1"))
        savepoint = db.session.begin_nested()
        db.session.execute(text("SELECT set_config('statement_timeout', '10000', true)"))
        inside = db.session.execute(text("SELECT current_setting('statement_timeout')")).scalar()
        savepoint.rollback()
        after = db.session.execute(text("SELECT current_setting('statement_timeout')")).scalar()
        db.session.rollback()
    assert (inside, after) == ("10s", "700ms")
