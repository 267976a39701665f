"""Platform admins: changing one's own password over the platform API, the
``tenantry platform-admins create|set-password|list`` commands (subprocess, passwords never
echoed), and ``migrate-all`` saying so when FIRST_OWNER_PASSWORD is not the stored owner's
password (it once ignored the change silently: old password kept working, new got 401)."""

from __future__ import annotations

import secrets

import pytest

from core import platform_admins
from core.owner_session import owner_session
from core.testing.app import BOOTSTRAP_TOKEN, PLATFORM_EMAIL, PLATFORM_PASSWORD
from tests.core.commandline import app_env, tenantry

PASSWORD_PATH = "/api/v1/platform/auth/password"


def _email() -> str:
    return f"admin-{secrets.token_hex(4)}@platform.test"


@pytest.fixture
def admin(app):
    """A platform admin of its own (failed attempts must not lock the shared owner out)."""
    email, password = _email(), "first-password-1"
    with app.app_context(), owner_session() as session:
        platform_admins.create_admin(session, email, password)
        session.commit()
    return email, password


def _login(platform, email, password):
    return platform.post("/api/v1/platform/auth/login",
                         json={"email": email, "password": password})


def _token(platform, email, password) -> str:
    response = _login(platform, email, password)
    assert response.status_code == 200, response.json
    return response.json["access_token"]


# --------------------------------------------------------------------------- the API


def test_an_admin_changes_their_own_password(platform, admin):
    email, password = admin
    me = platform.with_token(_token(platform, email, password))
    response = me.post(PASSWORD_PATH, json={"current_password": password,
                                            "new_password": "second-password-2"})
    assert response.status_code == 204, response.json
    assert _login(platform, email, password).status_code == 401
    assert _login(platform, email, "second-password-2").status_code == 200


def test_a_wrong_current_password_is_a_field_error(platform, admin):
    email, password = admin
    me = platform.with_token(_token(platform, email, password))
    response = me.post(PASSWORD_PATH, json={"current_password": "not-it-at-all",
                                            "new_password": "second-password-2"})
    assert response.status_code == 422
    assert response.json["errors"] == {"current_password": ["does not match"]}
    assert _login(platform, email, password).status_code == 200  # unchanged


@pytest.mark.parametrize("body, field", [
    ({"current_password": "first-password-1"}, "new_password"),
    ({"new_password": "second-password-2"}, "current_password"),
    ({"current_password": "first-password-1", "new_password": "short"}, "new_password"),
    ({"current_password": "first-password-1", "new_password": "first-password-1"},
     "new_password"),
])
def test_invalid_bodies_name_the_field(platform, admin, body, field):
    email, password = admin
    me = platform.with_token(_token(platform, email, password))
    response = me.post(PASSWORD_PATH, json=body)
    assert response.status_code == 422, response.json
    assert field in str(response.json["errors"])
    assert password not in str(response.json)


def test_credentials_rules(platform, client):
    body = {"current_password": "x" * 10, "new_password": "y" * 10}
    assert platform.post(PASSWORD_PATH, json=body).status_code == 401
    assert platform.post(PASSWORD_PATH, json={}).status_code == 401  # 401 before the body
    bootstrap = platform.with_token(BOOTSTRAP_TOKEN).post(PASSWORD_PATH, json=body)
    assert bootstrap.status_code == 403
    tenant_host = client.post(PASSWORD_PATH, json=body, headers={"Host": "nosuch.tenantry.test"})
    assert tenant_host.status_code == 404


def test_wrong_current_passwords_count_as_failed_logins(app, platform, admin):
    email, password = admin
    free = app.config["LOGIN_FREE_FAILURES"]
    me = platform.with_token(_token(platform, email, password))
    statuses = [me.post(PASSWORD_PATH, json={"current_password": f"wrong-{n}-password",
                                             "new_password": "second-password-2"}).status_code
                for n in range(free + 1)]
    assert statuses[:free] == [422] * free
    assert statuses[free] == 429
    assert _login(platform, email, password).status_code == 429  # the same account's delay


def test_the_endpoint_is_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"][PASSWORD_PATH]["post"]
    assert {"204", "401", "403", "422"} <= set(operation["responses"])
    assert operation["security"] == [{"platformBearer": []}]


# --------------------------------------------------------------------------- the commands


@pytest.fixture
def env(app, database, tmp_path):
    return app_env(database, tmp_path)


def test_create_list_and_set_password_from_the_command_line(env, platform):
    email = _email()
    env["NEW_ADMIN_PASSWORD"] = "created-password-1"
    created = tenantry("platform-admins", "create", email, "--password-env",
                       "NEW_ADMIN_PASSWORD", env=env)
    assert created.returncode == 0, created.stderr
    assert f"platform admin {email} created" in created.stdout
    assert "created-password-1" not in created.stdout + created.stderr
    assert _login(platform, email, "created-password-1").status_code == 200

    listed = tenantry("platform-admins", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith(email) and "active" in line
               for line in listed.stdout.splitlines())
    assert "$argon2" not in listed.stdout

    changed = tenantry("platform-admins", "set-password", email, "--password-stdin",
                       env=env, input="stdin-password-2\n")
    assert changed.returncode == 0, changed.stderr
    assert "stdin-password-2" not in changed.stdout + changed.stderr
    assert _login(platform, email, "created-password-1").status_code == 401
    assert _login(platform, email, "stdin-password-2").status_code == 200


def test_command_errors_are_messages(env):
    email = _email()
    env["SHORT"] = "short"
    short = tenantry("platform-admins", "create", email, "--password-env", "SHORT", env=env)
    assert short.returncode == 1
    assert "password" in short.stderr and "Traceback" not in short.stderr
    assert tenantry("platform-admins", "set-password", _email(), "--password-stdin",
                    env=env, input="long-enough-password\n").returncode == 1
    unset = tenantry("platform-admins", "create", email, "--password-env", "NOT_SET_ANYWHERE",
                     env=env)
    assert unset.returncode == 1
    assert "NOT_SET_ANYWHERE" in unset.stderr
    duplicate = tenantry("platform-admins", "create", PLATFORM_EMAIL, "--password-stdin",
                         env=env, input="long-enough-password\n")
    assert duplicate.returncode == 1
    assert "exists already" in duplicate.stderr


def test_migrate_all_says_when_first_owner_password_changed(env, platform, app):
    email = _email()
    env.update(FIRST_OWNER_EMAIL=email, FIRST_OWNER_PASSWORD="original-password-1")
    first = tenantry("migrate-all", env=env)
    assert first.returncode == 0, first.stderr
    assert f"platform owner {email} created" in first.stdout

    env["FIRST_OWNER_PASSWORD"] = "rotated-password-2"
    second = tenantry("migrate-all", env=env)
    assert second.returncode == 0, second.stderr
    assert f"warning: platform owner {email} exists and its password is not " \
           "FIRST_OWNER_PASSWORD" in second.stdout
    assert f"tenantry platform-admins set-password {email} --password-env " \
           "FIRST_OWNER_PASSWORD" in second.stdout
    assert "rotated-password-2" not in second.stdout + second.stderr
    # Not overwritten silently: the stored password is still the one in use.
    assert _login(platform, email, "original-password-1").status_code == 200

    rotated = tenantry("platform-admins", "set-password", email, "--password-env",
                       "FIRST_OWNER_PASSWORD", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert _login(platform, email, "rotated-password-2").status_code == 200
    third = tenantry("migrate-all", env=env)
    assert "warning" not in third.stdout


def test_the_configured_owner_matches_without_a_warning(env):
    env.update(FIRST_OWNER_EMAIL=PLATFORM_EMAIL, FIRST_OWNER_PASSWORD=PLATFORM_PASSWORD)
    result = tenantry("migrate-all", env=env)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout
