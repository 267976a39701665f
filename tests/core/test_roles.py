"""The app's database role: refused when it could bypass RLS; ``flask setup-db`` creates the
right roles idempotently."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from core.cli import setup_db_command
from core.provisioning import connect_admin
from core.role_check import UnsafeDatabaseRole, role_problems, verify_app_role


def _engine_as(database, role: str, password: str):
    url = make_url(database.app_url).set(username=role, password=password)
    return create_engine(url.render_as_string(hide_password=False))


@pytest.fixture
def make_role(admin_connection):
    created = []

    def make(attributes: str) -> tuple[str, str]:
        name, password = f"role_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
        admin_connection.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' {attributes}")
        admin_connection.execute(f"GRANT CONNECT ON DATABASE "
                                 f"{admin_connection.info.dbname} TO {name}")
        created.append(name)
        return name, password

    yield make
    for name in created:
        admin_connection.execute(f"DROP OWNED BY {name}")
        admin_connection.execute(f"DROP ROLE {name}")


def test_the_app_role_passes(app, database):
    engine = create_engine(database.app_url)
    assert role_problems(engine) == []
    verify_app_role(engine)
    engine.dispose()


def test_a_superuser_is_refused_with_the_fix(database, make_role):
    engine = _engine_as(database, *make_role("SUPERUSER"))
    with pytest.raises(UnsafeDatabaseRole) as excinfo:
        verify_app_role(engine)
    assert "is a superuser" in str(excinfo.value)
    assert "NOSUPERUSER" in str(excinfo.value)
    assert "tenantry setup-db --admin-url URL" in str(excinfo.value)
    engine.dispose()


def test_a_bypassrls_role_is_refused(database, make_role):
    engine = _engine_as(database, *make_role("BYPASSRLS"))
    with pytest.raises(UnsafeDatabaseRole, match="has BYPASSRLS"):
        verify_app_role(engine)
    engine.dispose()


def test_a_role_owning_tables_is_refused(app, database):
    owner = make_url(database.owner_url)
    engine = create_engine(database.owner_url)
    problems = role_problems(engine)
    assert any(f"role {owner.username} owns" in p for p in problems)
    engine.dispose()


def test_the_production_entry_point_refuses_to_boot_on_an_unsafe_role(
        database, make_role, monkeypatch, tmp_path):
    from core.testing.app import app_config
    from core.wsgi import build_app

    role, password = make_role("BYPASSRLS")
    url = make_url(database.app_url).set(username=role, password=password)
    config = app_config(database, DATABASE_URL=url.render_as_string(hide_password=False))
    for name, value in config.items():
        if name.isupper() and name not in ("TESTING",):
            monkeypatch.setenv(name, str(value) if not isinstance(value, tuple) else value)
    monkeypatch.setenv("PLATFORM_HOSTS", "platform.tenantry.test")
    with pytest.raises(UnsafeDatabaseRole):
        build_app()


def test_setup_db_creates_database_and_roles_idempotently(server_admin_url):
    suffix = secrets.token_hex(3)
    args = ["--admin-url", server_admin_url, "--database", f"setup_{suffix}",
            "--owner-role", f"own_{suffix}", "--app-role", f"app_{suffix}"]
    runner = CliRunner()
    first = runner.invoke(setup_db_command, args)
    assert first.exit_code == 0, first.output
    assert f"database setup_{suffix}: created" in first.output
    assert "DATABASE_URL=postgresql+psycopg://app_" in first.output
    second = runner.invoke(setup_db_command, args)
    assert second.exit_code == 0, second.output
    assert f"database setup_{suffix}: checked" in second.output
    with connect_admin(server_admin_url) as conn:
        flags = {name: (superuser, bypass) for name, superuser, bypass in conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s)",
            ([f"own_{suffix}", f"app_{suffix}"],)).fetchall()}
    assert flags[f"app_{suffix}"] == (False, False)
    assert flags[f"own_{suffix}"] == (False, True)
    # The second run keeps the passwords the first one generated (and printed once).
    assert "password unchanged" in second.output
    app_url = next(line.split("=", 1)[1] for line in first.output.splitlines()
                   if line.startswith("DATABASE_URL="))
    with psycopg.connect(make_url(app_url).set(drivername="postgresql")
                         .render_as_string(hide_password=False)) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == f"app_{suffix}"
