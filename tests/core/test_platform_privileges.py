"""Least privilege on platform tables (issue 18 item 5): what the app role may change there.

Each test connects as the app role itself (DATABASE_URL), as SQL reaching the database through
the app would, and shows what the database refuses whatever the code does.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url

from core.owner_session import OwnerRoleMissing, owner_session
from core.testing.app import PLATFORM_EMAIL, PLATFORM_HOST
from core.testing.console import ConsoleClient
from tests.core.commandline import app_env, tenantry

# Privileges of the app role on platform tables, after migration c0a1f0000006.
EXPECTED = {
    "platform_users": {"SELECT"},
    "tenants": {"SELECT", "INSERT"},
    "modules": {"SELECT", "INSERT", "UPDATE"},
    "templates": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "platform_console_sessions": {"SELECT", "INSERT", "DELETE"},
    "login_throttle": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "rate_limit_counters": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "platform_audit_events": {"SELECT", "INSERT"},
    "tenant_tombstones": {"SELECT"},
    "tenant_erasure_requests": {"SELECT", "INSERT", "DELETE"},
}


def _app_connection(database):
    url = make_url(database.app_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@pytest.fixture
def as_app(app, database):
    with _app_connection(database) as connection:
        yield connection


def _refused(connection, statement: str, params=()) -> bool:
    try:
        connection.execute(statement, params)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_the_app_role_has_only_the_expected_table_privileges(as_app, database):
    role = make_url(database.app_url).username
    rows = as_app.execute("""
        SELECT table_name, privilege_type FROM information_schema.role_table_grants
         WHERE grantee = %s AND table_schema = 'public' AND table_name = ANY(%s)""",
                          (role, list(EXPECTED))).fetchall()
    found: dict[str, set[str]] = {name: set() for name in EXPECTED}
    for table, privilege in rows:
        found[table].add(privilege)
    assert found == EXPECTED


def test_the_app_role_cannot_add_a_platform_admin(as_app):
    assert _refused(as_app, """
        INSERT INTO platform_users (id, email, password_hash, active, created_at, updated_at)
        VALUES (%s, 'intruder@evil.test', 'x', true, now(), now())""", (uuid.uuid4(),))
    assert as_app.execute(
        "SELECT count(*) FROM platform_users WHERE email = 'intruder@evil.test'"
    ).fetchone() == (0,)


def test_the_app_role_cannot_rewrite_or_reactivate_an_admin(as_app):
    assert _refused(as_app, "UPDATE platform_users SET password_hash = 'known'")
    assert _refused(as_app, "UPDATE platform_users SET active = true")
    assert _refused(as_app, "DELETE FROM platform_users")


def test_the_password_function_needs_the_current_hash(as_app):
    admin_id, stored = as_app.execute(
        "SELECT id, password_hash FROM platform_users WHERE email = %s",
        (PLATFORM_EMAIL,)).fetchone()
    assert as_app.execute("SELECT tenantry_change_platform_password(%s, 'guess', 'known')",
                          (admin_id,)).fetchone() == (False,)
    assert as_app.execute("SELECT password_hash FROM platform_users WHERE id = %s",
                          (admin_id,)).fetchone() == (stored,)


def test_tenants_change_only_in_the_columns_the_platform_api_edits(as_app, tenant):
    assert as_app.execute("UPDATE tenants SET name = name WHERE id = %s",
                          (tenant.id,)).rowcount == 1
    assert _refused(as_app, "UPDATE tenants SET slug = 'stolen' WHERE id = %s", (tenant.id,))
    assert _refused(as_app, "DELETE FROM tenants WHERE id = %s", (tenant.id,))


def test_a_session_row_planted_by_sql_does_not_sign_anyone_in(app, as_app):
    """Session rows hold an HMAC keyed by JWT_SECRET: a row written with the plain SHA-256 of
    a chosen token is no way in."""
    token = secrets.token_urlsafe(32)
    admin_id = as_app.execute("SELECT id FROM platform_users WHERE email = %s",
                              (PLATFORM_EMAIL,)).fetchone()[0]
    as_app.execute("""
        INSERT INTO platform_console_sessions (id, token_hash, platform_user_id, created_at,
                                               expires_at)
        VALUES (%s, %s, %s, now(), %s)""",
                   (uuid.uuid4(), hashlib.sha256(token.encode()).digest(), admin_id,
                    datetime.now(UTC) + timedelta(hours=1)))
    console = ConsoleClient(app, PLATFORM_HOST)
    console.client.set_cookie("tenantry_platform_console", token, domain=PLATFORM_HOST)
    response = console.get("/platform/")
    assert response.status_code in (302, 303)
    assert "/platform/login" in response.headers["Location"]


def test_the_owner_session_needs_the_migration_credentials(app):
    with app.app_context():
        saved = app.config["MIGRATION_DATABASE_URL"]
        app.config["MIGRATION_DATABASE_URL"] = app.config["DATABASE_URL"]
        try:
            with pytest.raises(OwnerRoleMissing, match="MIGRATION_DATABASE_URL"), \
                    owner_session():
                pass
        finally:
            app.config["MIGRATION_DATABASE_URL"] = saved


def test_the_create_command_without_owner_credentials_says_what_to_set(
        app, database, tmp_path):
    email = f"ops-{secrets.token_hex(4)}@platform.test"
    env = app_env(database, tmp_path, MIGRATION_DATABASE_URL=database.app_url,
                  NEW_ADMIN_PASSWORD="first-password-1")
    result = tenantry("platform-admins", "create", email, "--password-env",
                      "NEW_ADMIN_PASSWORD", env=env)
    assert result.returncode == 1
    assert "MIGRATION_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
