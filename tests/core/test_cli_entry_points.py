"""Every way an operator starts the command line reaches the same commands: the ``tenantry``
console script (no FLASK_APP), ``flask --app core``, ``python -m core`` and ``python -m core.cli``
(which once exited 0 doing nothing), and ``setup-db`` before the app can start."""

from __future__ import annotations

import subprocess

import pytest

from core.config import PROJECT_ROOT
from tests.core.commandline import FLASK, PYTHON, TENANTRY, app_env, base_env, run, tenantry

OPERATOR_COMMANDS = ("migrate-all", "setup-db", "tenants", "modules", "db", "bootstrap",
                     "billing", "pos", "idempotency", "platform-admins", "serve")


@pytest.fixture
def env(app, database, tmp_path):  # app: the session database is migrated
    return app_env(database, tmp_path)


@pytest.mark.parametrize("entry", [
    [TENANTRY],
    [FLASK, "--app", "core"],
    [PYTHON, "-m", "core"],
    [PYTHON, "-m", "core.cli"],
], ids=["tenantry", "flask --app core", "python -m core", "python -m core.cli"])
def test_every_entry_lists_the_operator_commands(entry, env):
    result = run([*entry, "--help"], env)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines()
              if line.strip()}
    assert set(OPERATOR_COMMANDS) <= listed, result.stdout


def test_python_m_core_cli_runs_the_command_it_is_given(env):
    # Seed 000's shape (`python -m app.cli migrate-all`) once exited 0 and did nothing.
    result = run([PYTHON, "-m", "core.cli", "migrate-all"], env)
    assert result.returncode == 0, result.stderr
    assert "core: already at head" in result.stdout


def test_unknown_command_exits_non_zero(env):
    result = tenantry("no-such-command", env=env)
    assert result.returncode != 0
    assert "No such command" in result.stderr


def test_tenantry_needs_no_flask_app(env):
    assert "FLASK_APP" not in env
    result = tenantry("modules", "list", env=env)
    assert result.returncode == 0, result.stderr
    assert "catalog" in result.stdout


@pytest.mark.parametrize("entry", [[TENANTRY], [FLASK]], ids=["tenantry", "flask"])
def test_setup_db_works_without_any_settings(entry, tmp_path):
    # No DATABASE_URL, JWT_SECRET, ... and a malformed BOOTSTRAP_TOKEN: the app could not start
    # (and `flask` has no app at all), but setup-db is registered without it.
    env = base_env(TENANTRY_ENV="production", BOOTSTRAP_TOKEN="short",
                   TENANTRY_INSTANCE_PATH=tmp_path)
    result = run([*entry, "setup-db", "--help"], env)
    assert result.returncode == 0, result.stderr
    assert "--admin-url" in result.stdout


def test_invalid_settings_are_one_message_not_a_traceback(tmp_path):
    env = base_env(TENANTRY_ENV="production", BOOTSTRAP_TOKEN="short",
                   TENANTRY_INSTANCE_PATH=tmp_path)
    result = tenantry("migrate-all", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "BOOTSTRAP_TOKEN: must be at least 32 characters" in result.stderr
    assert "JWT_SECRET: missing" in result.stderr
    listing = tenantry("--help", env=env)
    assert listing.returncode == 0
    assert "Traceback" not in listing.stderr
    assert "setup-db" in listing.stdout


def test_migrate_all_as_the_wrong_role_is_one_message(fresh_database, tmp_path):
    # The app role may not create tables: a misconfigured MIGRATION_DATABASE_URL.
    env = app_env(fresh_database, tmp_path, MIGRATION_DATABASE_URL=fresh_database.app_url)
    result = tenantry("migrate-all", env=env)
    assert result.returncode == 1
    assert "migrate-all stopped: permission denied for schema public" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_quick_start_leaves_no_untracked_venv_file():
    # Newer tox writes a *file* named .venv; the ignore rule once matched only a folder.
    result = subprocess.run(["git", "check-ignore", "--no-index", "-q", ".venv"],
                            cwd=PROJECT_ROOT, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
