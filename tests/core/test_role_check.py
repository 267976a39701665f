"""The role check holds however the app is served (issue 10, item 4).

- ``gunicorn 'core:create_app()'`` and ``gunicorn 'core.wsgi:build_app()'`` on a superuser
  DATABASE_URL refuse to boot: the process exits non-zero with the one refusal message naming
  ``tenantry setup-db --admin-url URL`` (real gunicorn, real config, in a subprocess).
- Served any other way (``flask run``, a test client, a database that was down at start-up),
  the engine checks its first connection: every request answers 503 with the refusal, liveness
  answers, and once the role is fixed the app serves without a restart.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from sqlalchemy.engine import make_url

from core import create_app
from core.extensions import db
from core.provisioning import connect_admin
from core.role_check import UnsafeDatabaseRole
from core.testing.app import JWT_SECRET, PLATFORM_EMAIL, PLATFORM_HOST, app_config

REPOSITORY = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
FIX = "tenantry setup-db --admin-url URL"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment an operator gives gunicorn: production mode, every required setting."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("TENANTRY_", "FLASK_")) and name not in (
               "DATABASE_URL", "MIGRATION_DATABASE_URL", "PASSWORD_HASH_PROFILE")}
    env.update({
        "TENANTRY_ENV": "production",
        "TENANTRY_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "ROOT_DOMAIN": "tenantry.test",
        "PLATFORM_HOSTS": PLATFORM_HOST,
        "RESERVED_SUBDOMAINS": "www,api",
        "FIRST_OWNER_EMAIL": PLATFORM_EMAIL,
        "FIRST_OWNER_PASSWORD": "platform-password-1",
        "APP_HOST": "127.0.0.1",
        "APP_PORT": str(free_port()),
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    })
    env.update(extra)
    return env


@pytest.mark.parametrize("entry_point", ["core:create_app()", "core.wsgi:build_app()"])
def test_gunicorn_refuses_to_boot_on_a_superuser(entry_point, server_admin_url, tmp_path):
    assert GUNICORN.exists(), f"gunicorn is a test dependency: {GUNICORN}"
    result = subprocess.run(
        [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", entry_point],
        cwd=REPOSITORY, env=production_env(server_admin_url, tmp_path),
        capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "refusing to serve" in output and "is a superuser" in output, output
    assert FIX in output, output
    password = make_url(server_admin_url).password
    assert not password or password not in output


# --------------------------------------------------------------------------- checked on connect


@pytest.fixture
def superuser_app_role(app, database, admin_connection):
    """A superuser role with the app role's privileges (member of it), and its URL."""
    app_role = make_url(database.app_url).username
    name, password = f"su_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    admin_connection.execute(f"CREATE ROLE {name} LOGIN SUPERUSER PASSWORD '{password}'")
    admin_connection.execute(f"GRANT {app_role} TO {name}")
    url = make_url(database.app_url).set(username=name, password=password)
    yield name, url.render_as_string(hide_password=False)
    admin_connection.execute(f"DROP OWNED BY {name}")
    admin_connection.execute(f"DROP ROLE {name}")


def _assert_refused(response):
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True))
    assert "refusing to serve" in response.json["message"]
    assert FIX in response.json["message"]
    assert response.headers.get("Retry-After", "").isdigit()


def test_the_first_connection_checks_the_role_and_the_fix_needs_no_restart(
        database, superuser_app_role):
    name, url = superuser_app_role
    application = create_app(app_config(database, DATABASE_URL=url))  # test mode: lazy
    client = application.test_client()
    platform = {"Host": PLATFORM_HOST}
    assert client.get("/healthz", headers=platform).status_code == 200
    _assert_refused(client.get("/readyz", headers=platform))
    login = client.post("/api/v1/platform/auth/login", headers=platform,
                        json={"email": PLATFORM_EMAIL, "password": "wrong-password-1"})
    _assert_refused(login)
    with connect_admin(database.admin_url) as admin:
        admin.execute(f"ALTER ROLE {name} NOSUPERUSER")
    assert client.get("/readyz", headers=platform).status_code == 200
    login = client.post("/api/v1/platform/auth/login", headers=platform,
                        json={"email": PLATFORM_EMAIL, "password": "wrong-password-1"})
    assert login.status_code == 401, login.json
    with application.app_context():
        db.engine.dispose()


def _production_config(database, url, tmp_path):
    return app_config(database, DATABASE_URL=url, TENANTRY_ENV="production", TESTING=False,
                      PASSWORD_HASH_PROFILE="standard", INSTANCE_PATH=tmp_path)


def test_create_app_refuses_in_production(database, superuser_app_role, tmp_path):
    _name, url = superuser_app_role
    with pytest.raises(UnsafeDatabaseRole, match="tenantry setup-db --admin-url URL"):
        create_app(_production_config(database, url, tmp_path))


def test_flask_run_is_refused_on_its_first_request(database, superuser_app_role, tmp_path):
    # `flask run` (and every CLI command) loads the app inside a click context: no check at
    # start-up, so `tenantry migrate-all` is not refused for the app role; the first
    # connection is checked instead.
    _name, url = superuser_app_role
    with click.Context(click.Command("run")).scope():
        application = create_app(_production_config(database, url, tmp_path))
    client = application.test_client()
    _assert_refused(client.get("/readyz", headers={"Host": PLATFORM_HOST}))
    with application.app_context():
        db.engine.dispose()
