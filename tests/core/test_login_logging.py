"""Login attempts log a start line and an end line with the final status, whatever the outcome
(runbook 000, "Troubleshooting auth regressions"), and never the password."""

from __future__ import annotations

import logging

import pytest

from core.extensions import db
from core.tenant_lifecycle import set_status
from core.testing.app import PLATFORM_EMAIL, PLATFORM_PASSWORD, HostClient
from core.testing.tenants import PASSWORD

LOGIN = "/api/v1/auth/login"


def _lines(caplog, logger):
    return [record.getMessage() for record in caplog.records if record.name == logger]


def _login_lines(caplog, label="login"):
    return [line for line in _lines(caplog, "tenantry.auth")
            if line.startswith((f"{label} start", f"{label} end"))]


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO, logger="tenantry")
    return caplog


def test_successful_login_logs_start_and_end_with_200(tenant, logs):
    email = tenant.users["owner"]
    response = tenant.anonymous().post(LOGIN, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    lines = _login_lines(logs)
    assert len(lines) == 2
    assert lines[0] == f"login start host={tenant.host} email={email}"
    assert lines[1] == (f"login end host={tenant.host} tenant={tenant.slug} email={email} "
                        "status=200")
    access = [line for line in _lines(logs, "tenantry.access") if f"path={LOGIN}" in line]
    assert len(access) == 1 and "status=200" in access[0]
    assert PASSWORD not in logs.text
    assert response.json["access_token"] not in logs.text


def test_wrong_password_logs_the_401(tenant, logs):
    response = tenant.anonymous().post(LOGIN, json={"email": tenant.users["owner"],
                                                    "password": "wrong-password-x"})
    assert response.status_code == 401
    lines = _login_lines(logs)
    assert lines[0].startswith("login start") and lines[-1].endswith("status=401")
    assert "wrong-password-x" not in logs.text


@pytest.mark.parametrize("status, expected", [("inactive", 403), ("provisioning", 503)])
def test_refusals_before_the_view_are_logged_too(app, tenant, logs, status, expected):
    with app.app_context():
        set_status(tenant.id, status, "restoring a backup" if status == "provisioning" else None)
        db.session.commit()
    response = tenant.anonymous().post(LOGIN, json={"email": tenant.users["owner"],
                                                    "password": PASSWORD})
    assert response.status_code == expected
    lines = _login_lines(logs)
    assert len(lines) == 2 and lines[1].endswith(f"status={expected}")
    if expected == 503:  # the reason is in the log for the operator
        assert any("restoring a backup" in line for line in _lines(logs, "tenantry.tenancy"))


def test_invalid_body_and_unknown_host_are_logged(client, tenant, logs):
    assert tenant.anonymous().post(LOGIN, json={"email": "x"}).status_code == 422
    assert HostClient(client, "nobody.tenantry.test").post(
        LOGIN, json={"email": "a@b.test", "password": "p"}).status_code == 404
    ends = [line for line in _login_lines(logs) if line.startswith("login end")]
    assert [line.rsplit(" ", 1)[-1] for line in ends] == ["status=422", "status=404"]


def test_hostile_email_cannot_forge_log_lines(tenant, logs):
    tenant.anonymous().post(LOGIN, json={"email": "a@b.test\nlogin end status=200",
                                         "password": "x"})
    for line in _login_lines(logs):
        assert "\n" not in line


def test_platform_login_logs_start_and_end(platform, logs):
    ok = platform.post("/api/v1/platform/auth/login",
                       json={"email": PLATFORM_EMAIL, "password": PLATFORM_PASSWORD})
    bad = platform.post("/api/v1/platform/auth/login",
                        json={"email": PLATFORM_EMAIL, "password": "nope-nope-nope"})
    assert (ok.status_code, bad.status_code) == (200, 401)
    lines = _login_lines(logs, "platform login")
    assert [line.split(" ")[2] for line in lines] == ["start", "end", "start", "end"]
    assert lines[1].endswith("status=200") and lines[3].endswith("status=401")
    assert PLATFORM_PASSWORD not in logs.text
