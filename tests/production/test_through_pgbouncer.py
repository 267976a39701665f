"""Tenantry through a real pgbouncer in transaction mode (issue 11, items 1 and 5).

Every test of this module runs on ``pgbouncer_app`` (the ``app`` fixture is overridden below):
the app connects to pgbouncer (``pool_mode=transaction``, 2 server connections) with
``DATABASE_POOLER=transaction``. That includes a representative set of existing tests imported
from the RLS and POS modules, re-run here unchanged, plus:

- alternating tenants from several threads at once — more client connections than pgbouncer
  has server connections — with every answer checked against its tenant;
- Idempotency-Key on POS receipts: replay, different body (422), concurrent duplicate (409);
- without the setting, psycopg's prepared statements break through pgbouncer (SQLSTATE 42P05 or
  26000, and 5xx answers over HTTP), and the pooler detector (core/pooler.py) says which
  setting is missing; with the setting the same load is clean.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core import create_app
from core.app_state import app_state
from core.extensions import db
from core.pooler import POOLER_IN_FRONT, PREPARED_STATEMENT_ERROR
from core.testing.app import HostClient, app_config
from tests.core.test_rls import (  # noqa: F401 - re-run here, through pgbouncer
    test_a_tenant_cannot_write_into_another,
    test_a_tenant_sees_only_its_own_rows,
    test_no_tenant_means_no_rows,
    test_scope_survives_a_commit_in_the_middle,
    test_the_app_connects_as_an_unprivileged_role,
    two_tenants,
)
from tests.fixtures.commerce import moves_of
from tests.fixtures.pgbouncer import POOL_SIZE
from tests.fixtures.products import make_product
from tests.plugins.pos.test_pos_api import (  # noqa: F401 - re-run here, through pgbouncer
    test_receipt_prices_pays_gives_change_and_moves_stock,
    test_receipt_replay_with_idempotency_key_sells_once,
)

THREADS = 6  # concurrent clients, three times pgbouncer's pool
REQUESTS_PER_THREAD = 30


@pytest.fixture(scope="module")
def app(pgbouncer_app):
    """Every test here, the imported ones included, runs on the app through pgbouncer."""
    return pgbouncer_app


def _receipt_url(register) -> str:
    return f"/api/v1/pos/registers/{register['id']}/receipts"


# --------------------------------------------------------------------------- isolation


@pytest.fixture
def shops(make_tenant):
    """Four tenants with a few users and products each, and an owner token per tenant."""
    made = []
    for _ in range(4):
        handle = make_tenant(modules=["users", "catalog"])
        for role in ("admin", "cashier"):
            handle.add_user(role)
        admin = handle.as_role("admin")
        skus = {make_product(admin, sale_price="1.00")["sku"] for _ in range(3)}
        made.append((handle, handle.token("owner"), skus))
    return made


def test_alternating_tenants_from_many_threads_see_only_their_own_rows(app, pgbouncer, shops):
    def one_client(seed: int) -> Counter:
        rng = random.Random(seed)
        client, outcome = app.test_client(), Counter()
        for _ in range(REQUESTS_PER_THREAD):
            handle, token, skus = rng.choice(shops)
            host = HostClient(client, handle.host, token=token)
            if rng.random() < 0.5:
                response = host.get("/api/v1/users", query_string={"page_size": 100})
                seen, expected = {u["email"] for u in response.json or []}, set(
                    handle.users.values())
            else:
                response = host.get("/api/v1/catalog/products", query_string={"page_size": 100})
                seen, expected = {p["sku"] for p in response.json or []}, skus
            outcome[response.status_code] += 1
            if response.status_code == 200 and seen != expected:
                outcome["leak"] += 1
        return outcome

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(one_client, range(THREADS)))
    total = sum(outcomes, Counter())
    assert total == Counter({200: THREADS * REQUESTS_PER_THREAD}), total
    # More client connections were open at once than pgbouncer had server connections.
    with app.app_context():
        assert db.engine.pool.checkedin() > POOL_SIZE
    assert 0 < pgbouncer.server_connections() <= POOL_SIZE


# --------------------------------------------------------------------------- idempotency


@pytest.fixture
def till(pos_store, pos_cashier, pos_register, pos_shift, pos_products):
    """A cashier at an open till with products in stock."""
    lines = [{"product_id": pos_products[0]["id"], "quantity": "1"}]
    return pos_cashier, pos_register, pos_shift, lines


def test_idempotent_receipt_replays_and_refuses_a_different_body(pos_store, till,
                                                                 admin_connection):
    cashier, register, _shift, lines = till
    headers = {"Idempotency-Key": f"pgb-{uuid.uuid4()}"}
    body = {"lines": lines, "payments": [{"method": "cash", "amount": "5.00"}]}
    first = cashier.post(_receipt_url(register), json=body, headers=headers)
    assert first.status_code == 201, first.json
    again = cashier.post(_receipt_url(register), json=body, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    different = cashier.post(_receipt_url(register), headers=headers, json={
        **body, "payments": [{"method": "cash", "amount": "6.00"}]})
    assert different.status_code == 422, different.json
    receipts = admin_connection.execute(
        "SELECT count(*) FROM pos_receipts WHERE tenant_id = %s", (pos_store.id,)).fetchone()[0]
    assert receipts == 1
    assert len(moves_of(admin_connection, pos_store.id, first.json["id"])) == 1


def _wait_for_lock_waiter(admin_connection, database_name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = admin_connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND wait_event_type = 'Lock'", (database_name,)).fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the first request never waited for the lock")


def test_a_concurrent_duplicate_is_409_at_once(app, database, pos_store, till):
    cashier, register, shift, lines = till
    headers = {"Idempotency-Key": f"pgb-dup-{uuid.uuid4()}"}
    body = {"lines": lines, "payments": [{"method": "cash", "amount": "5.00"}]}
    results: dict[str, object] = {}
    database_name = database.app_url.rsplit("/", 1)[1].split("?")[0]

    def first_request():
        client = HostClient(app.test_client(), cashier.host, token=cashier.token)
        results["first"] = client.post(_receipt_url(register), json=body, headers=headers)

    # The receipt takes a share lock on its open shift: holding the row keeps it running.
    with psycopg.connect(database.admin_url.replace("+psycopg", "")) as blocker:
        blocker.execute("SELECT 1 FROM pos_shifts WHERE id = %s FOR UPDATE", (shift["id"],))
        worker = threading.Thread(target=first_request)
        worker.start()
        with psycopg.connect(database.admin_url.replace("+psycopg", ""),
                             autocommit=True) as watcher:
            _wait_for_lock_waiter(watcher, database_name)
        duplicate = cashier.post(_receipt_url(register), json=body, headers=headers)
        first_still_running = "first" not in results
        blocker.rollback()
    worker.join(30)
    assert duplicate.status_code == 409, duplicate.json
    assert first_still_running  # answered at once, not after the first request finished
    assert results["first"].status_code == 201, results["first"].json
    replay = cashier.post(_receipt_url(register), json=body, headers=headers)
    assert replay.status_code == 201 and replay.json == results["first"].json


# --------------------------------------------------------------------------- the setting


@pytest.fixture
def unprepared_apps(database, pgbouncer):
    """Apps through pgbouncer's one-connection alias, without and with DATABASE_POOLER."""
    built = {}
    for pooler in ("none", "transaction"):
        # PROPAGATE_EXCEPTIONS off: a failure is answered as in production, not raised. The
        # tenant cache off: every request then also reads the tenant and its toggles, so the
        # few requests here prepare enough statements to collide (as a busy server would).
        built[pooler] = create_app(app_config(database, DATABASE_URL=pgbouncer.single_url,
                                              DATABASE_POOLER=pooler,
                                              PROPAGATE_EXCEPTIONS=False,
                                              TENANT_STATE_CACHE_SECONDS=0))
    yield built
    for application in built.values():
        with application.app_context():
            db.engine.dispose()


def _same_query_on_two_connections(application, times: int = 8) -> list[str]:
    """Run one statement ``times`` times on each of two pooled connections, alternately.

    psycopg prepares a statement after 5 executions on a connection, under a name that is
    unique per connection only (``_pg3_0``...); behind a transaction pooler both connections'
    transactions run on the same server connection. Returns the SQLSTATEs of the failures."""
    failures = []
    with application.app_context():
        first, second = db.engine.connect(), db.engine.connect()
        try:
            for _ in range(times):
                for connection in (first, second):
                    try:
                        connection.execute(text("SELECT count(*) FROM pg_class WHERE oid > :n"),
                                           {"n": 0})
                        connection.commit()
                    except DBAPIError as error:
                        failures.append(error.orig.sqlstate)
                        connection.rollback()
        finally:
            first.close()
            second.close()
    return failures


def test_without_the_setting_prepared_statements_break_and_the_detector_warns(
        unprepared_apps, caplog):
    caplog.set_level(logging.WARNING, logger="tenantry.pooler")
    failures = _same_query_on_two_connections(unprepared_apps["none"])
    assert failures and set(failures) <= {"42P05", "26000"}, failures
    detector = app_state(unprepared_apps["none"]).pooler
    assert {POOLER_IN_FRONT, PREPARED_STATEMENT_ERROR} <= detector.findings
    warnings = [r.getMessage() for r in caplog.records if r.name == "tenantry.pooler"]
    assert len(warnings) == 2 and all("DATABASE_POOLER=transaction" in w for w in warnings)


def test_with_the_setting_the_same_statements_work_and_nothing_is_installed(unprepared_apps):
    assert _same_query_on_two_connections(unprepared_apps["transaction"]) == []
    assert app_state(unprepared_apps["transaction"]).pooler is None


def test_without_the_setting_requests_fail_over_http(unprepared_apps, make_tenant):
    handle = make_tenant(modules=["users"])
    token = handle.token("owner")

    def one_client(_seed: int) -> Counter:
        client = HostClient(unprepared_apps["none"].test_client(), handle.host, token=token)
        return Counter(client.get("/api/v1/users").status_code for _ in range(15))

    with ThreadPoolExecutor(3) as pool:
        statuses = sum(pool.map(one_client, range(3)), Counter())
    assert any(status >= 500 for status in statuses), statuses


def test_a_direct_connection_raises_no_warning(database, caplog):
    caplog.set_level(logging.WARNING, logger="tenantry.pooler")
    direct = create_app(app_config(database))
    with direct.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        db.engine.dispose()
    assert app_state(direct).pooler.findings == set()
    assert not [r for r in caplog.records if r.name == "tenantry.pooler"]


# --------------------------------------------------------------------------- one connection


@pytest.fixture
def one_connection_app(database, pgbouncer):
    """One pooled connection per process (no overflow) to pgbouncer's one-server-connection
    alias: a request that needed a second connection would wait DB_POOL_TIMEOUT, then fail."""
    application = create_app(app_config(
        database, DATABASE_URL=pgbouncer.single_url, DATABASE_POOLER="transaction",
        DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=20))
    yield application
    with application.app_context():
        db.engine.dispose()


def test_an_idempotent_receipt_completes_on_one_connection(one_connection_app, till,
                                                          admin_connection, pos_store):
    cashier, register, _shift, lines = till
    client = HostClient(one_connection_app.test_client(), cashier.host, token=cashier.token)
    headers = {"Idempotency-Key": f"one-{uuid.uuid4()}"}
    body = {"lines": lines, "payments": [{"method": "cash", "amount": "5.00"}]}
    started = time.monotonic()
    first = client.post(_receipt_url(register), json=body, headers=headers)
    again = client.post(_receipt_url(register), json=body, headers=headers)
    elapsed = time.monotonic() - started
    assert first.status_code == 201, first.json
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert elapsed < 10  # far below DB_POOL_TIMEOUT: nothing waited for a second connection
    assert len(moves_of(admin_connection, pos_store.id, first.json["id"])) == 1
