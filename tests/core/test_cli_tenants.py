"""``flask tenants create|list|activate|deactivate`` and ``flask modules list``."""

from __future__ import annotations

import re
import uuid

import pytest

from core.app_state import app_state
from core.testing.app import HostClient
from core.testing.tenants import PASSWORD


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _slug():
    return f"cli{uuid.uuid4().hex[:10]}"


def _login(client, slug, email):
    return HostClient(client, f"{slug}.tenantry.test").post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD})


def test_create_with_owner_and_module(runner, client):
    slug = _slug()
    result = runner.invoke(args=["tenants", "create", slug, "--name", "CLI Shop",
                                 "--owner-email", f"boss@{slug}.test",
                                 "--owner-password", PASSWORD, "--module", "users"])
    assert result.exit_code == 0, result.output
    match = re.search(rf"tenant {slug} created: ([0-9a-f-]{{36}})", result.output)
    assert match, result.output
    login = _login(client, slug, f"boss@{slug}.test")
    assert login.status_code == 200
    owner = HostClient(client, f"{slug}.tenantry.test", token=login.json["access_token"])
    assert owner.get("/api/v1/auth/me").json["tenant_id"] == match.group(1)
    assert owner.get("/api/v1/users").status_code == 200  # the module is enabled


def test_create_prompts_for_the_owner_password(runner, client):
    slug = _slug()
    result = runner.invoke(args=["tenants", "create", slug, "--owner-email", f"o@{slug}.test"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    assert _login(client, slug, f"o@{slug}.test").status_code == 200


@pytest.mark.parametrize("args, message", [
    (["bad_slug!"], "slug"),
    (["www"], "reserved"),
    (["{slug}", "--module", "no-such-module"], "no-such-module"),
    (["{slug}", "--template", "no-such-template"], "no-such-template"),
])
def test_create_reports_invalid_input(runner, args, message):
    slug = _slug()
    result = runner.invoke(args=["tenants", "create", *[a.format(slug=slug) for a in args]])
    assert result.exit_code == 1
    assert "error:" in result.output and message in result.output
    assert slug not in runner.invoke(args=["tenants", "list"]).output  # nothing half-made


def test_create_refuses_a_duplicate(runner):
    slug = _slug()
    assert runner.invoke(args=["tenants", "create", slug]).exit_code == 0
    again = runner.invoke(args=["tenants", "create", slug])
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_list_activate_deactivate(runner, tenant, client):
    listed = runner.invoke(args=["tenants", "list"])
    assert listed.exit_code == 0
    line = next(line for line in listed.output.splitlines() if line.startswith(tenant.slug))
    assert "active" in line and str(tenant.id) in line

    off = runner.invoke(args=["tenants", "deactivate", tenant.slug])
    assert off.exit_code == 0 and f"tenant {tenant.slug}: inactive" in off.output
    assert _login(client, tenant.slug, tenant.users["owner"]).status_code == 403
    line = next(line for line in runner.invoke(args=["tenants", "list"]).output.splitlines()
                if line.startswith(tenant.slug))
    assert "inactive" in line

    on = runner.invoke(args=["tenants", "activate", tenant.slug])
    assert on.exit_code == 0 and f"tenant {tenant.slug}: active" in on.output
    assert _login(client, tenant.slug, tenant.users["owner"]).status_code == 200


@pytest.mark.parametrize("command", ["activate", "deactivate"])
def test_status_commands_refuse_unknown_tenants(runner, command):
    result = runner.invoke(args=["tenants", command, "no-such-tenant"])
    assert result.exit_code == 1
    assert "no tenant 'no-such-tenant'" in result.output


def test_modules_list(runner, app):
    result = runner.invoke(args=["modules", "list"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert set(app_state(app).registry.modules) <= set(lines)
    assert lines["users"].endswith("ready")
    assert "requires: -" in lines["users"]
