"""Faults under a real gunicorn on a PostgreSQL of its own (issue 11, item 5).

One durable embedded PostgreSQL (fsync on, so a restart keeps every committed row) and one
gunicorn (``deploy/gunicorn.conf.py``, ``WEB_CONCURRENCY=2``, ``core:create_app()``) serve the
whole module; real HTTP from threads.

- **PostgreSQL restart mid-load**, straight and through pgbouncer in transaction mode (a second
  gunicorn, started only for that test): writers create products while the server is stopped
  and started again. Every acknowledged (2xx) write exists afterwards, no answer is a 500 (503s with
  ``Retry-After`` during the outage are the contract), the first 2xx after the server is back
  comes within 5 s, and nothing fails after that.
- **A worker SIGKILLed in the middle of an idempotent POS receipt** (the request is held on a
  lock an admin connection keeps on its shift, then its worker — found through the socket of our
  HTTP connection — is killed): the retry with the same key runs at once and succeeds, and no
  receipt exists without its stock moves and its payment.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from core.embedded import APP_ROLE, EmbeddedPostgres
from core.testing.app import BOOTSTRAP_TOKEN, JWT_SECRET, PLATFORM_PASSWORD
from core.testing.tenants import PASSWORD
from tests.core.commandline import stop_server
from tests.fixtures.pgbouncer import PgBouncer, free_port, require_pgbouncer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ROOT_DOMAIN = "faults.test"
PLATFORM_HOST = "platform.faults.test"
SLUG = "shop"
WRITERS = 4
RECOVERY_LIMIT = 5.0  # seconds from "server is back" to the first 2xx


# --------------------------------------------------------------------------- HTTP


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: object
    started: float = 0.0
    finished: float = 0.0


def _send(connection: http.client.HTTPConnection, method: str, path: str, host: str,
          token: str | None, body: object, headers: dict | None) -> None:
    sent = {"Host": host, "Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    payload = None if body is None else json.dumps(body)
    connection.request(method, path, body=payload, headers=sent)


def _read(connection: http.client.HTTPConnection) -> Answer:
    response = connection.getresponse()
    raw = response.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


@dataclass
class Served:
    """The gunicorn under test and the PostgreSQL behind it."""

    port: int
    process: subprocess.Popen
    cluster: EmbeddedPostgres
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, *, role: str | None = None, body=None,
             headers: dict | None = None, host: str = f"{SLUG}.{ROOT_DOMAIN}",
             timeout: float = 25) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            started = time.monotonic()
            _send(connection, method, path, host, self.tokens.get(role or ""), body, headers)
            answer = _read(connection)
            answer.started, answer.finished = started, time.monotonic()
            return answer
        finally:
            connection.close()

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def admin(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.cluster.url("postgres").replace("+psycopg", ""), **kwargs)


def _gunicorn() -> str:
    beside = Path(sys.executable).with_name("gunicorn")
    found = str(beside) if beside.exists() else shutil.which("gunicorn")
    if not found:
        pytest.fail("gunicorn is not installed (it is in the test extras: pip install -e .[test])")
    return found


def _seed(cluster: EmbeddedPostgres, instance: Path) -> None:
    """Migrate, then one tenant with catalog, stock and POS and its admin and cashier."""
    from core import create_app
    from core.extensions import db
    from core.schema_migrations import migrate_all
    from core.tenant_lifecycle import create_tenant, create_user

    application = create_app({
        "TENANTRY_ENV": "test", "INSTANCE_PATH": instance, "DATABASE_URL": cluster.app_url,
        "MIGRATION_DATABASE_URL": cluster.owner_url, "JWT_SECRET": JWT_SECRET,
        "ROOT_DOMAIN": ROOT_DOMAIN, "PLATFORM_HOSTS": PLATFORM_HOST,
        "RESERVED_SUBDOMAINS": "www,api,admin,platform", "FIRST_OWNER_EMAIL": "root@faults.test",
        "FIRST_OWNER_PASSWORD": PLATFORM_PASSWORD, "PASSWORD_HASH_PROFILE": "test"})
    with application.app_context():
        migrate_all(echo=lambda _line: None)
        tenant = create_tenant(slug=SLUG, name="Shop", owner_email=f"owner@{SLUG}.test",
                               owner_password=PASSWORD,
                               modules={"catalog": {}, "stock": {}, "pos": {}})
        for role in ("admin", "cashier"):
            create_user(tenant.id, email=f"{role}@{SLUG}.test", password=PASSWORD, role=role)
        db.session.commit()
        db.engine.dispose()


def _wait_ready(port: int, process: subprocess.Popen, log_path: Path, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n"
                                 + log_path.read_text()[-3000:])
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": PLATFORM_HOST})
            if connection.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"gunicorn not ready within {timeout} s:\n" + log_path.read_text()[-3000:])


@dataclass
class Cluster:
    """The module's PostgreSQL, seeded, and the folder it lives in."""

    server: EmbeddedPostgres
    base: Path
    app_password: str


@pytest.fixture(scope="module")
def cluster():
    base = Path(tempfile.mkdtemp(prefix="tenantry-faults-", dir="/tmp"))
    # Traversable (not listable) by the user that runs PostgreSQL when we are root; otherwise
    # core.embedded moves the cluster to /var/tmp, outside the folder removed at the end.
    os.chmod(base, 0o711)  # noqa: S103 - execute only: no listing, no writing
    server = EmbeddedPostgres(base / "postgres", durable=True).start()
    try:
        (base / "instance").mkdir()
        _seed(server, base / "instance")
        # The embedded server trusts its socket; pgbouncer asks the app role for a password.
        password = secrets.token_urlsafe(16)
        with psycopg.connect(server.admin_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(APP_ROLE), sql.Literal(password)))
        yield Cluster(server, base, password)
    finally:
        server.stop()
        shutil.rmtree(server.base_dir, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def _serve(cluster: Cluster, name: str, **settings: str) -> Iterator[Served]:
    """gunicorn with the deploy config on ``cluster``; ``settings`` override the environment."""
    port = free_port()
    env = {**os.environ, "TENANTRY_ENV": "production", "DATABASE_URL": cluster.server.app_url,
           "MIGRATION_DATABASE_URL": cluster.server.owner_url, "JWT_SECRET": JWT_SECRET,
           "ROOT_DOMAIN": ROOT_DOMAIN, "PLATFORM_HOSTS": PLATFORM_HOST,
           "RESERVED_SUBDOMAINS": "www,api,admin,platform",
           "FIRST_OWNER_EMAIL": "root@faults.test", "FIRST_OWNER_PASSWORD": PLATFORM_PASSWORD,
           "BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
           "TENANTRY_INSTANCE_PATH": str(cluster.base / "instance"),
           "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "2", "APP_HOST": "127.0.0.1",
           "APP_PORT": str(port),
           # The SIGKILL test holds a request on a lock for a moment; it must still wait.
           "LOCK_TIMEOUT_MS": "20000",
           # The limiter counts (its counters live through the restarts too), with quotas the
           # load of these tests never reaches.
           "RATE_LIMITS": "tenant=1000000,api_key=1000000,user=1000000",
           "RATE_LIMITS_FREE": "tenant=1000000,api_key=1000000,user=1000000", **settings}
    log_path = cluster.base / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [_gunicorn(), "-c", str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),
             "core:create_app()"], cwd=PROJECT_ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(port, process, log_path)
        server = Served(port, process, cluster.server, log_path)
        for role in ("admin", "cashier", "owner"):
            login = server.call("POST", "/api/v1/auth/login", body={
                "email": f"{role}@{SLUG}.test", "password": PASSWORD})
            assert login.status == 200, login.body
            server.tokens[role] = login.body["access_token"]
        yield server
    finally:
        stop_server(process, timeout=20)


@pytest.fixture(scope="module")
def served(cluster):
    """gunicorn straight on PostgreSQL."""
    with _serve(cluster, "gunicorn-direct") as server:
        yield server


@pytest.fixture(scope="module")
def served_through_pgbouncer(cluster):
    """gunicorn through pgbouncer (transaction mode) on the same PostgreSQL."""
    require_pgbouncer()
    app_url = make_url(cluster.server.app_url).set(password=cluster.app_password)
    bouncer = PgBouncer(app_url.render_as_string(hide_password=False)).start()
    try:
        with _serve(cluster, "gunicorn-pgbouncer", DATABASE_URL=bouncer.url,
                    DATABASE_POOLER="transaction") as server:
            yield server
    finally:
        bouncer.cleanup()


# --------------------------------------------------------------------------- restart


def _create_products(served: Served, stop: threading.Event, answers: list, failures: list):
    while not stop.is_set():
        sku = f"R-{uuid.uuid4().hex[:12]}"
        try:
            answers.append(served.call("POST", "/api/v1/catalog/products", role="admin", body={
                "sku": sku, "name": f"Product {sku}", "sale_price": "1.00"}))
        except (OSError, http.client.HTTPException) as error:  # a dropped connection
            failures.append(repr(error))


def test_a_postgres_restart_under_load_loses_no_acknowledged_write(served):
    _restart_under_load(served, "direct")


def test_a_postgres_restart_through_pgbouncer_loses_no_acknowledged_write(
        served_through_pgbouncer):
    _restart_under_load(served_through_pgbouncer, "through pgbouncer")


def _errors_logged(log_path: Path) -> str:
    """The server's error lines and tracebacks (for the message of a failed assertion)."""
    lines = log_path.read_text(errors="replace").splitlines()
    keep = [line for line in lines if "database unavailable" not in line  # the expected 503s
            and (not line.startswith("[") or "ERROR" in line or "CRITICAL" in line)]
    return "\n".join(keep[-120:])


def _restart_under_load(served: Served, path: str) -> None:
    stop, answers, failures = threading.Event(), [], []
    writers = [threading.Thread(target=_create_products, args=(served, stop, answers, failures))
               for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    try:
        time.sleep(1.5)
        served.cluster.stop()  # fast shutdown: open sessions are terminated
        time.sleep(1.0)
        served.cluster.start()
        back_at = time.monotonic()
        time.sleep(RECOVERY_LIMIT + 1)
    finally:
        stop.set()
        for writer in writers:
            writer.join(60)

    statuses = Counter(answer.status for answer in answers)
    assert not failures, failures[:5]
    assert set(statuses) <= {201, 503}, (
        path, statuses, [a.body for a in answers if a.status not in (201, 503)][:3],
        _errors_logged(served.log_path))
    assert all("retry-after" in a.headers for a in answers if a.status == 503)
    recovered = [a.finished for a in answers if a.status == 201 and a.started >= back_at]
    assert recovered, statuses
    recovery = min(recovered) - back_at
    assert recovery < RECOVERY_LIMIT, (path, recovery, statuses)
    failed_after = [(round(a.started - back_at, 2), a.status, a.body) for a in answers
                    if a.started >= back_at + recovery and a.status != 201]
    assert not failed_after, (path, recovery, failed_after[:5])  # (s after back, status, body)
    acknowledged = [a.body["id"] for a in answers if a.status == 201]
    with served.admin(dbname="tenantry") as admin:
        found = admin.execute("SELECT count(*) FROM products WHERE id = ANY(%s::uuid[])",
                              (acknowledged,)).fetchone()[0]
    assert found == len(acknowledged), f"{len(acknowledged) - found} acknowledged writes lost"
    print(f"restart under load, {path}: {dict(statuses)}, recovery {recovery:.2f} s, "  # -rP
          f"{len(acknowledged)} acknowledged writes all present")


# --------------------------------------------------------------------------- SIGKILL


@pytest.fixture(scope="module")
def till(served):
    """A product in stock, a register and an open shift."""
    product = served.call("POST", "/api/v1/catalog/products", role="admin", body={
        "sku": "KILL-1", "name": "Coffee", "sale_price": "2.50"})
    assert product.status == 201, product.body
    stocked = served.call("POST", "/api/v1/stock/moves", role="admin", body={"moves": [
        {"product_id": product.body["id"], "quantity": "100", "reason": "receipt",
         "unit_cost": "1.00"}]})
    assert stocked.status == 201, stocked.body
    register = served.call("POST", "/api/v1/pos/registers", role="owner",
                           body={"code": "K1", "name": "Till"})
    assert register.status == 201, register.body
    shift = served.call("POST", f"/api/v1/pos/registers/{register.body['id']}/shifts",
                        role="cashier", body={"opening_float": "10.00"})
    assert shift.status == 201, shift.body
    return product.body, register.body, shift.body


def _socket_inode(server_port: int, client_port: int) -> str:
    """The inode of the server side of our TCP connection (/proc/net/tcp, hex ports)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if (local_port, remote_port) == (server_port, client_port):
            return fields[9]
    raise AssertionError("no server-side socket for our connection")


def _worker_serving(served: Served, connection: http.client.HTTPConnection) -> int:
    """The gunicorn worker that accepted ``connection`` (it holds the socket's inode)."""
    inode = _socket_inode(served.port, connection.sock.getsockname()[1])
    for pid in served.workers():
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    raise AssertionError("no worker holds our connection")


def _wait_until(admin: psycopg.Connection, query: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if admin.execute(query).fetchone()[0]:
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {query}")


LOCK_WAITER = ("SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = 'tenantry' "
               "AND wait_event_type = 'Lock'")
HALF_WRITTEN_RECEIPTS = """
    SELECT r.id FROM pos_receipts r
     WHERE NOT EXISTS (SELECT 1 FROM stock_moves m
                        WHERE m.tenant_id = r.tenant_id AND m.reference_id = r.id)
        OR NOT EXISTS (SELECT 1 FROM pos_payments p
                        WHERE p.tenant_id = r.tenant_id AND p.receipt_id = r.id)"""
NO_APP_WORK_LEFT = ("SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'tenantry' "
                    "AND usename = 'tenantry_app' AND state NOT IN ('idle')")


def test_a_worker_killed_mid_receipt_leaves_no_stuck_key_and_no_half_receipt(served, till):
    product, register, shift = till
    path = f"/api/v1/pos/registers/{register['id']}/receipts"
    key = f"kill-{uuid.uuid4()}"
    body = {"lines": [{"product_id": product["id"], "quantity": "1"}],
            "payments": [{"method": "cash", "amount": "5.00"}]}
    headers = {"Idempotency-Key": key}
    workers_before = served.workers()

    with served.admin(dbname="tenantry") as blocker, \
            served.admin(dbname="tenantry", autocommit=True) as watcher:
        # The receipt takes a share lock on its open shift: this keeps it running.
        blocker.execute("SELECT 1 FROM pos_shifts WHERE id = %s FOR UPDATE", (shift["id"],))
        doomed = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        _send(doomed, "POST", path, f"{SLUG}.{ROOT_DOMAIN}", served.tokens["cashier"], body,
              headers)
        _wait_until(watcher, LOCK_WAITER)
        worker = _worker_serving(served, doomed)
        os.kill(worker, signal.SIGKILL)
        blocker.rollback()
        # The killed worker's server process finds its client gone and rolls back.
        _wait_until(watcher, NO_APP_WORK_LEFT)
    with pytest.raises((OSError, http.client.HTTPException)):
        _read(doomed)  # the client of the killed worker sees its connection drop
    doomed.close()

    retry = served.call("POST", path, role="cashier", body=body, headers=headers)
    assert retry.status == 201, retry.body  # not 409: the key is not stuck
    assert "idempotent-replayed" not in retry.headers  # it ran; nothing was stored before
    assert retry.finished - retry.started < 5
    replay = served.call("POST", path, role="cashier", body=body, headers=headers)
    assert replay.status == 201 and replay.body == retry.body
    assert replay.headers.get("idempotent-replayed") == "true"

    with served.admin(dbname="tenantry") as admin:
        half_written = admin.execute(HALF_WRITTEN_RECEIPTS).fetchall()
        receipts = admin.execute("SELECT count(*) FROM pos_receipts WHERE shift_id = %s",
                                 (shift["id"],)).fetchone()[0]
    assert half_written == []
    assert receipts == 1  # the killed attempt left nothing; the retry wrote one
    assert worker not in served.workers()  # really killed (gunicorn starts another)
    assert len(workers_before) == 2
