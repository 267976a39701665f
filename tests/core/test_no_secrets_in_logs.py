"""No password, token or raw API key reaches a log line, at any level, across a whole flow:
platform login, tenant creation, owner login, authenticated calls, key creation and use, and
failed attempts with wrong secrets."""

from __future__ import annotations

import logging

from core.testing.app import BOOTSTRAP_TOKEN, PLATFORM_PASSWORD

OWNER_PASSWORD = "owner-secret-password-42"
WRONG_PASSWORD = "wrong-secret-password-99"


def test_secrets_never_reach_the_logs(caplog, platform_admin, tenant):
    caplog.set_level(logging.DEBUG)
    secrets = [PLATFORM_PASSWORD, OWNER_PASSWORD, WRONG_PASSWORD, BOOTSTRAP_TOKEN,
               platform_admin.token]

    created = platform_admin.post("/api/v1/platform/tenants", json={
        "slug": "logcheck", "name": "Log check",
        "owner": {"email": "owner@logcheck.test", "password": OWNER_PASSWORD}})
    assert created.status_code == 201, created.json

    host = tenant.anonymous().__class__(tenant.client, "logcheck.tenantry.test")
    assert host.post("/api/v1/auth/login", json={"email": "owner@logcheck.test",
                                                 "password": WRONG_PASSWORD}).status_code == 401
    login = host.post("/api/v1/auth/login", json={"email": "owner@logcheck.test",
                                                  "password": OWNER_PASSWORD})
    assert login.status_code == 200
    token = login.json["access_token"]
    secrets.append(token)
    owner = host.with_token(token)
    assert owner.get("/api/v1/auth/me").status_code == 200
    assert host.with_token(token + "x").get("/api/v1/auth/me").status_code == 401

    issued = owner.post("/api/v1/api-keys", json={"label": "log check", "role": "admin"})
    assert issued.status_code == 201, issued.json
    raw_key = issued.json["api_key"]
    secrets.append(raw_key)
    assert host.with_api_key(raw_key).get("/admin/api-keys").status_code == 200
    assert host.with_api_key(raw_key + "x").get("/admin/api-keys").status_code == 401
    assert platform_admin.with_token(BOOTSTRAP_TOKEN).get(
        "/api/v1/platform/tenants").status_code == 200

    lines = [record.getMessage() for record in caplog.records]
    lines += [str(record.args) for record in caplog.records if record.args]
    assert any("login end" in line for line in lines)  # logging did happen
    leaks = [(secret[:6], line) for secret in secrets for line in lines if secret in line]
    assert leaks == []
