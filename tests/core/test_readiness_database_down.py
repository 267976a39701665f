"""A database that is down: the app boots anyway, liveness answers 200, readiness and every other
request answer 503 with Retry-After, and when the database comes back the same app serves again
without a restart (issue 10, item 3; issue 11, "PostgreSQL restart").

"Down" is a closed port for start-up, and a PostgreSQL of this test's own (core.embedded, in a
temporary folder) stopped and started again for recovery.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core import create_app
from core.embedded import EmbeddedPostgres
from core.extensions import db
from core.schema_migrations import migrate_all
from core.testing.app import PLATFORM_EMAIL, PLATFORM_HOST, PLATFORM_PASSWORD, app_config
from core.testing.database import TestDatabase as DatabaseUrls  # not collected
from tests.core.commandline import stop_server
from tests.core.test_role_check import GUNICORN, REPOSITORY, free_port, production_env

PLATFORM = {"Host": PLATFORM_HOST}
LOGIN = {"email": PLATFORM_EMAIL, "password": PLATFORM_PASSWORD}


def closed_port_url() -> str:
    return f"postgresql+psycopg://tenantry_app:secret-pw@127.0.0.1:{free_port()}/tenantry"


def _assert_unavailable(response):
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True))
    assert response.headers.get("Retry-After", "").isdigit()
    assert "secret-pw" not in response.get_data(as_text=True)


def test_the_app_boots_in_production_while_the_database_is_down(tmp_path):
    url = closed_port_url()
    database = DatabaseUrls(url, url, "")
    started = time.monotonic()
    application = create_app(app_config(database, TENANTRY_ENV="production", TESTING=False,
                                        PASSWORD_HASH_PROFILE="standard",
                                        INSTANCE_PATH=tmp_path))
    client = application.test_client()
    assert client.get("/healthz", headers=PLATFORM).status_code == 200
    ready = client.get("/readyz", headers=PLATFORM)
    _assert_unavailable(ready)
    assert "database unreachable" in ready.json["message"]
    _assert_unavailable(client.post("/api/v1/platform/auth/login", headers=PLATFORM, json=LOGIN))
    _assert_unavailable(client.get("/cases", headers={"Host": "localhost", "X-API-Key": "k"}))
    assert time.monotonic() - started < 10


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local test URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.parametrize("entry_point", ["core:create_app()", "core.wsgi:build_app()"])
def test_gunicorn_serves_liveness_while_the_database_is_down(entry_point, tmp_path):
    env = production_env(closed_port_url(), tmp_path)
    base = f"http://127.0.0.1:{env['APP_PORT']}"
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", entry_point], cwd=REPOSITORY, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        live = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                live = _get(base + "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert server.poll() is None, server.communicate()[0]
        assert live is not None and live[0] == 200, live
        status, body = _get(base + "/readyz")
        assert status == 503 and "database unreachable" in body, (status, body)
    finally:
        stop_server(server)


# --------------------------------------------------------------------------- a restart


@pytest.fixture
def own_postgres():
    # The cluster folder itself is the temporary folder: its parent (/tmp) is reachable by the
    # unprivileged user PostgreSQL runs as when we are root, so the cluster is not relocated to
    # /var/tmp (where the rmtree below would not find it).
    base = Path(tempfile.mkdtemp(prefix="tenantry-restart-pg-", dir="/tmp"))
    server = EmbeddedPostgres(base, durable=False).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _statuses_until(request, expected: int, timeout: float) -> list[int]:
    """Statuses of ``request`` sent until it answers ``expected`` (only 503s before it)."""
    started = time.monotonic()
    seen: list[int] = []
    while time.monotonic() - started < timeout:
        response = request()
        seen.append(response.status_code)
        if response.status_code == expected:
            break
        assert response.status_code == 503, (response.status_code, response.get_data())
        time.sleep(0.1)
    return seen


def test_the_same_app_recovers_when_the_database_comes_back(own_postgres, tmp_path):
    database = DatabaseUrls(own_postgres.app_url, own_postgres.owner_url, own_postgres.admin_url)
    application = create_app(app_config(database))
    with application.app_context():
        migrate_all(echo=lambda _line: None)
    client = application.test_client()

    def login():
        return client.post("/api/v1/platform/auth/login", headers=PLATFORM, json=LOGIN)

    assert login().status_code == 200
    own_postgres.stop()
    _assert_unavailable(login())
    assert client.get("/healthz", headers=PLATFORM).status_code == 200
    ready = client.get("/readyz", headers=PLATFORM)
    _assert_unavailable(ready)
    assert "database unreachable" in ready.json["message"]

    # An app started while the database is down (production: the start-up check is skipped).
    booted_down = create_app(app_config(database, TENANTRY_ENV="production", TESTING=False,
                                        PASSWORD_HASH_PROFILE="standard",
                                        INSTANCE_PATH=tmp_path))
    _assert_unavailable(booted_down.test_client().get("/readyz", headers=PLATFORM))

    own_postgres.start()
    # Recovery within 5 s; the pool's checkout check (core.pool_check) replaces the dead
    # connections before a request uses them, so the first request after the restart succeeds.
    seen = _statuses_until(login, 200, timeout=5)
    assert seen == [200], f"requests after the database was back: {seen}"
    assert client.get("/readyz", headers=PLATFORM).status_code == 200
    assert booted_down.test_client().get("/readyz", headers=PLATFORM).status_code == 200
    for each in (application, booted_down):
        with each.app_context():
            db.engine.dispose()
