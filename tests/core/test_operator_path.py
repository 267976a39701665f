"""The operator's path from an empty server to a serving app, through subprocesses only, as the
README and docs/operations.md tell it: ``tenantry setup-db`` (its printed URLs go into the
environment), ``tenantry migrate-all`` twice, then gunicorn with the deployment config on both
entry points, ready on /readyz, and a platform login over HTTP. Production mode, real argon2."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from core.config import PROJECT_ROOT
from tests.core.commandline import BIN, base_env, stop_server, tenantry

OWNER_EMAIL = "operator@tenantry.example"
OWNER_PASSWORD = "operator-password-" + secrets.token_hex(4)


@dataclass(frozen=True)
class Deployment:
    env: dict[str, str]


def _printed(output: str, name: str) -> str:
    return next(line.split("=", 1)[1] for line in output.splitlines()
                if line.startswith(f"{name}="))


@pytest.fixture(scope="module")
def deployment(server_admin_url, tmp_path_factory) -> Deployment:
    suffix = secrets.token_hex(4)
    instance = tmp_path_factory.mktemp("operator-instance")
    setup = tenantry("setup-db", "--admin-url", server_admin_url, "--database", f"op_{suffix}",
                     "--owner-role", f"op_owner_{suffix}", "--app-role", f"op_app_{suffix}",
                     env=base_env(TENANTRY_INSTANCE_PATH=instance))
    assert setup.returncode == 0, setup.stderr
    env = base_env(
        DATABASE_URL=_printed(setup.stdout, "DATABASE_URL"),
        MIGRATION_DATABASE_URL=_printed(setup.stdout, "MIGRATION_DATABASE_URL"),
        JWT_SECRET=secrets.token_urlsafe(48),
        ROOT_DOMAIN="shop.example",
        PLATFORM_HOSTS="localhost,127.0.0.1",
        RESERVED_SUBDOMAINS="www,api,admin,platform",
        FIRST_OWNER_EMAIL=OWNER_EMAIL,
        FIRST_OWNER_PASSWORD=OWNER_PASSWORD,
        TENANTRY_INSTANCE_PATH=instance,
        LOG_LEVEL="WARNING",
    )  # no TENANTRY_ENV: production, because DATABASE_URL is set

    first = tenantry("migrate-all", env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "core: upgrading" in first.stdout
    assert f"platform owner {OWNER_EMAIL} created" in first.stdout
    second = tenantry("migrate-all", env=env, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "migrate-all: nothing to do, every branch is at head" in second.stdout
    return Deployment(env)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(port: int, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Host": "localhost", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.parametrize("entry", ["core:create_app()", "core.wsgi:build_app()"])
def test_serve_ready_and_log_in(deployment, entry, tmp_path):
    port = _free_port()
    env = {**deployment.env, "APP_HOST": "127.0.0.1", "APP_PORT": str(port),
           "WEB_CONCURRENCY": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", entry],
                                  cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline, ready = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = _request(port, "/readyz")
            except (ConnectionError, urllib.error.URLError, TimeoutError):
                ready = None
            if ready and ready[0] == 200:
                break
            time.sleep(0.3)
        assert ready and ready[0] == 200, f"{ready}\n{log_path.read_text()}"

        status, body = _request(port, "/api/v1/platform/auth/login",
                                {"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
        assert status == 200, body
        assert body["token_type"] == "bearer"
        assert OWNER_PASSWORD not in log_path.read_text()
    finally:
        stop_server(server)
    assert server.returncode == 0, log_path.read_text()


def test_migration_state_as_the_docs_explain_it(deployment):
    # docs/operations.md, "Migrations": one head per branch, `db current` lists the same
    # revisions, `db check` finds nothing to generate.
    heads = tenantry("db", "heads", env=deployment.env)
    current = tenantry("db", "current", env=deployment.env)
    assert heads.returncode == 0 and current.returncode == 0, heads.stderr + current.stderr
    head_lines = [line.split() for line in heads.stdout.splitlines() if line.strip()]
    branches = [words[1] for words in head_lines]
    assert len(branches) == len(set(branches))  # exactly one head per branch
    assert {"(core)", "(catalog)", "(pos)"} <= set(branches)
    assert {words[0] for words in head_lines} == {
        line.split()[0] for line in current.stdout.splitlines() if line.strip()}
    check = tenantry("db", "check", env=deployment.env)
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected." in check.stdout
