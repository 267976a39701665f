"""``tenantry setup-db`` (and bare ``flask setup-db``) in a subprocess, before any app exists: one
environment file drives it and the app (names and passwords from DATABASE_URL and
MIGRATION_DATABASE_URL), it prints only the passwords it generated, re-runs change nothing,
and it refuses contradictions and superuser role names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pytest
from sqlalchemy.engine import make_url

from core.provisioning import connect_admin
from tests.core.commandline import FLASK, TENANTRY, base_env, run


def _names():
    suffix = secrets.token_hex(4)
    return f"sdb_{suffix}", f"sdb_own_{suffix}", f"sdb_app_{suffix}"


def _url(admin_url: str, role: str, database: str, password: str | None) -> str:
    return make_url(admin_url).set(username=role, password=password, database=database) \
        .render_as_string(hide_password=False)


def _stored_verifier(admin_url: str, role: str) -> str | None:
    with connect_admin(admin_url) as connection:
        row = connection.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                                 (role,)).fetchone()
    return row[0] if row else None


def _scram_matches(verifier: str, password: str) -> bool:
    """Does PostgreSQL's SCRAM-SHA-256 verifier belong to ``password``? (The test server trusts
    its socket, so logging in would not prove the password was set.)"""
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256"
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                 int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def _database_exists(admin_url: str, name: str) -> bool:
    with connect_admin(admin_url) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (name,)).fetchone() is not None


def _printed(output: str, name: str) -> str:
    return next(line.split("=", 1)[1] for line in output.splitlines()
                if line.startswith(f"{name}="))


def test_names_and_passwords_come_from_the_two_urls(server_admin_url, tmp_path):
    database, owner, app = _names()
    app_password, owner_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    env = base_env(DATABASE_URL=_url(server_admin_url, app, database, app_password),
                   MIGRATION_DATABASE_URL=_url(server_admin_url, owner, database,
                                               owner_password),
                   TENANTRY_INSTANCE_PATH=tmp_path)
    result = run([TENANTRY, "setup-db", "--admin-url", server_admin_url], env)
    assert result.returncode == 0, result.stderr
    assert f"role {owner}: created" in result.stdout
    assert f"role {app}: created" in result.stdout
    assert f"database {database}: created" in result.stdout
    # Passwords it did not generate are never shown.
    for password in (app_password, owner_password):
        assert password not in result.stdout + result.stderr
    assert f"{app}:***@" in _printed(result.stdout, "DATABASE_URL")
    assert _scram_matches(_stored_verifier(server_admin_url, app), app_password)
    assert _scram_matches(_stored_verifier(server_admin_url, owner), owner_password)

    again = run([TENANTRY, "setup-db", "--admin-url", server_admin_url], env)
    assert again.returncode == 0, again.stderr
    assert f"database {database}: checked" in again.stdout
    assert _scram_matches(_stored_verifier(server_admin_url, app), app_password)


def test_generated_passwords_are_printed_once_and_kept_on_rerun(server_admin_url, tmp_path):
    database, owner, app = _names()
    env = base_env(TENANTRY_INSTANCE_PATH=tmp_path)
    args = ["setup-db", "--admin-url", server_admin_url, "--database", database,
            "--owner-role", owner, "--app-role", app]
    # Bare `flask` (no FLASK_APP, no app at all): the flask.commands entry point.
    first = run([FLASK, *args], env)
    assert first.returncode == 0, first.stderr
    app_url = make_url(_printed(first.stdout, "DATABASE_URL"))
    owner_url = make_url(_printed(first.stdout, "MIGRATION_DATABASE_URL"))
    assert (app_url.username, app_url.database, owner_url.username) == (app, database, owner)
    assert "shown only this once" in first.stdout
    assert _scram_matches(_stored_verifier(server_admin_url, app), app_url.password)
    assert _scram_matches(_stored_verifier(server_admin_url, owner), owner_url.password)

    second = run([TENANTRY, *args], env)
    assert second.returncode == 0, second.stderr
    assert f"role {app}: checked, password unchanged" in second.stdout
    assert app_url.password not in second.stdout
    assert owner_url.password not in second.stdout
    # A re-run must not break a running deployment by changing its passwords.
    assert _scram_matches(_stored_verifier(server_admin_url, app), app_url.password)


@pytest.mark.parametrize("case", ["database", "role"])
def test_an_option_that_contradicts_the_url_changes_nothing(case, server_admin_url, tmp_path):
    database, _owner, app = _names()
    env = base_env(DATABASE_URL=_url(server_admin_url, app, database, "app-secret-1"),
                   TENANTRY_INSTANCE_PATH=tmp_path)
    option = ["--database", database + "_other"] if case == "database" else \
        ["--app-role", app + "_other"]
    result = run([TENANTRY, "setup-db", "--admin-url", server_admin_url, *option], env)
    assert result.returncode == 1
    assert "DATABASE_URL names" in result.stderr
    assert "app-secret-1" not in result.stdout + result.stderr
    assert not _database_exists(server_admin_url, database)
    assert not _database_exists(server_admin_url, database + "_other")


def test_the_same_role_for_app_and_owner_is_refused(server_admin_url, tmp_path):
    database, _owner, app = _names()
    url = _url(server_admin_url, app, database, None)
    env = base_env(DATABASE_URL=url, MIGRATION_DATABASE_URL=url, TENANTRY_INSTANCE_PATH=tmp_path)
    result = run([TENANTRY, "setup-db", "--admin-url", server_admin_url], env)
    assert result.returncode == 1
    assert "use two roles" in result.stderr
    assert not _database_exists(server_admin_url, database)


def test_a_superuser_is_never_demoted(server_admin_url, tmp_path):
    database, owner, _app = _names()
    superuser = make_url(server_admin_url).username
    result = run([TENANTRY, "setup-db", "--admin-url", server_admin_url, "--database", database,
                  "--owner-role", owner, "--app-role", superuser],
                 base_env(TENANTRY_INSTANCE_PATH=tmp_path))
    assert result.returncode == 1
    assert "will not demote" in result.stderr
    with connect_admin(server_admin_url) as connection:
        assert connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s",
                                  (superuser,)).fetchone()[0] is True
