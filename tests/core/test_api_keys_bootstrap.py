"""POST /bootstrap and `flask bootstrap` (runbook 002 §2): a tenant and its first admin key."""

from __future__ import annotations

import uuid

import pytest

from core.tenant_lifecycle import slugify
from core.testing.app import BOOTSTRAP_TOKEN, ROOT_DOMAIN, HostClient

AUTH = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}


@pytest.fixture
def localhost(client):
    return HostClient(client, "localhost")


def _name():
    return f"Clinic {uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("path", ["/bootstrap", "/api/v1/bootstrap"])
def test_bootstrap_provisions_tenant_and_admin_key(localhost, path):
    name = _name()
    response = localhost.post(path, json={"tenant_name": name}, headers=AUTH)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["message"] == f"Tenant '{name}' provisioned."
    assert body["api_key"].startswith("tnt_")
    assert body["role"] == "admin"
    assert body["tenant_slug"] == slugify(name)
    assert {"cases", "billing"} <= set(body["modules"])
    uuid.UUID(body["tenant_id"])
    # The key works on ClinCore's host and on the tenant's own host, with admin rights.
    for host in ("localhost", f"{body['tenant_slug']}.{ROOT_DOMAIN}"):
        keys = localhost.with_api_key(body["api_key"])
        keys.host = host
        listed = keys.get("/admin/api-keys")
        assert listed.status_code == 200, listed.json
        assert [k["label"] for k in listed.json] == [f"bootstrap-{name}"]
        assert listed.json[0]["id"] == body["key_id"]


def test_bootstrap_with_owner_creates_a_login(localhost, client):
    name = _name()
    response = localhost.post("/bootstrap", headers=AUTH, json={
        "tenant_name": name, "owner_email": "boss@example.org",
        "owner_password": "long-enough-pw"})
    assert response.status_code == 201, response.json
    tenant_host = HostClient(client, f"{response.json['tenant_slug']}.{ROOT_DOMAIN}")
    login = tenant_host.post("/api/v1/auth/login", json={"email": "boss@example.org",
                                                         "password": "long-enough-pw"})
    assert login.status_code == 200


def test_duplicate_tenant_is_409(localhost):
    name = _name()
    assert localhost.post("/bootstrap", json={"tenant_name": name}, headers=AUTH)\
        .status_code == 201
    again = localhost.post("/bootstrap", json={"tenant_name": name.upper()}, headers=AUTH)
    assert again.status_code == 409
    assert "already exists" in again.json["message"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {BOOTSTRAP_TOKEN}"},
    {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}x"}])
def test_missing_or_wrong_token_is_401_before_the_body_is_read(localhost, headers):
    response = localhost.post("/bootstrap", json={"not": "valid"}, headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == 401


def test_a_login_token_is_403(localhost, platform_admin):
    response = localhost.post("/bootstrap", json={"tenant_name": _name()},
                              headers={"Authorization": f"Bearer {platform_admin.token}"})
    assert response.status_code == 403


def test_unset_token_makes_the_endpoint_disappear(localhost, app, monkeypatch):
    monkeypatch.setitem(app.config, "BOOTSTRAP_TOKEN", None)
    response = localhost.post("/bootstrap", json={"tenant_name": _name()}, headers=AUTH)
    assert response.status_code == 404


def test_not_served_on_tenant_hosts(client, tenant):
    response = tenant.anonymous().post("/bootstrap", json={"tenant_name": _name()},
                                       headers=AUTH)
    assert response.status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "tenant_name"),
    ({"tenant_name": ""}, "tenant_name"),
    ({"tenant_name": "!!!"}, "tenant_name"),
    ({"tenant_name": "www"}, "tenant_name"),  # a reserved host label
    ({"tenant_name": "x" * 191}, "tenant_name"),
    ({"tenant_name": 42}, "tenant_name"),
    ({"tenant_name": _name(), "owner_email": "not-an-email", "owner_password": "12345678"},
     "owner_email"),
    ({"tenant_name": _name(), "owner_email": "a@example.org"}, "owner_password"),
    ({"tenant_name": _name(), "surprise": 1}, "surprise"),
])
def test_invalid_input_is_422(localhost, body, field):
    response = localhost.post("/bootstrap", json=body, headers=AUTH)
    assert response.status_code == 422, response.json
    assert field in str(response.json["errors"])


def test_malformed_json_is_not_a_500(localhost):
    response = localhost.post("/bootstrap", data="{nope", headers=AUTH,
                              content_type="application/json")
    assert response.status_code in (400, 422)


def test_cli_bootstrap_prints_the_key_once_and_it_works(app, client):
    name = _name()
    result = app.test_cli_runner().invoke(args=["bootstrap", name])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    raw = lines["api_key"]
    assert f"Tenant '{name}' provisioned." in result.output
    response = HostClient(client, "localhost", api_key=raw).get("/admin/api-keys")
    assert response.status_code == 200
    assert response.json[0]["label"] == f"bootstrap-{name}"
    assert response.json[0]["role"] == "admin"


def test_cli_bootstrap_with_owner_and_duplicate(app, client):
    name = _name()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bootstrap", name, "--owner-email", "cli@example.org",
                                 "--owner-password", "cli-password-1"])
    assert result.exit_code == 0, result.output
    tenant_host = HostClient(client, f"{slugify(name)}.{ROOT_DOMAIN}")
    assert tenant_host.post("/api/v1/auth/login", json={
        "email": "cli@example.org", "password": "cli-password-1"}).status_code == 200
    again = runner.invoke(args=["bootstrap", name])
    assert again.exit_code != 0
    assert "already exists" in again.output
    assert "tnt_" not in again.output
