"""Host -> tenant resolution (runbook 000 "Tenancy"): every branch, over HTTP, before any view.

Port stripped, case folded, platform hosts, reserved labels and unknown hosts (404), inactive
tenants (403), tenants not ready (503 with the reason in the body and the log).
"""

from __future__ import annotations

import logging
import uuid

import pytest

from core.extensions import db
from core.tenancy import PLATFORM, TENANT, UNKNOWN, HostMatch, classify_host
from core.tenant_lifecycle import set_status
from core.testing.app import ROOT_DOMAIN, HostClient
from core.testing.tenants import PASSWORD

PLATFORM_HOSTS = ("platform.tenantry.test", "localhost")
RESERVED = ("www", "api", "admin", "platform")


@pytest.mark.parametrize("host, expected", [
    ("acme.tenantry.test", HostMatch(TENANT, "acme")),
    ("acme.tenantry.test:8443", HostMatch(TENANT, "acme")),
    ("ACME.Tenantry.TEST", HostMatch(TENANT, "acme")),
    ("Acme.tenantry.test:80", HostMatch(TENANT, "acme")),
    ("acme.tenantry.test.", HostMatch(TENANT, "acme")),
    ("platform.tenantry.test", HostMatch(PLATFORM)),
    ("PLATFORM.tenantry.test:8000", HostMatch(PLATFORM)),
    ("localhost:5000", HostMatch(PLATFORM)),
    ("www.tenantry.test", HostMatch(UNKNOWN)),
    ("API.tenantry.test:443", HostMatch(UNKNOWN)),
    ("a.b.tenantry.test", HostMatch(UNKNOWN)),
    ("tenantry.test", HostMatch(UNKNOWN)),
    (".tenantry.test", HostMatch(UNKNOWN)),
    ("acme.tenantry.test.evil.example", HostMatch(UNKNOWN)),
    ("acmetenantry.test", HostMatch(UNKNOWN)),
    ("example.com", HostMatch(UNKNOWN)),
    ("[::1]:8000", HostMatch(UNKNOWN)),
    ("", HostMatch(UNKNOWN)),
])
def test_classify_host(host, expected):
    assert classify_host(host, ROOT_DOMAIN, PLATFORM_HOSTS, RESERVED) == expected


def _login(client, host, email):
    return HostClient(client, host).post("/api/v1/auth/login",
                                         json={"email": email, "password": PASSWORD})


def test_port_is_stripped_and_case_folded(client, tenant):
    email = tenant.users["owner"]
    for host in (f"{tenant.slug}.{ROOT_DOMAIN}:8443", tenant.host.upper(),
                 f"{tenant.slug.upper()}.{ROOT_DOMAIN}:80"):
        response = _login(client, host, email)
        assert response.status_code == 200, (host, response.json)
        me = HostClient(client, host, token=response.json["access_token"]).get("/api/v1/auth/me")
        assert me.status_code == 200
        assert me.json["tenant_id"] == str(tenant.id) and me.json["tenant"] == tenant.slug


def test_platform_host_has_no_tenant(client, tenant):
    for host in ("platform.tenantry.test", "localhost:5000"):
        response = _login(client, host, tenant.users["owner"])
        assert response.status_code == 404
        assert "tenant" in response.json["message"]


def test_reserved_label_is_404_even_with_a_tenant_row(client, admin_connection):
    # core.tenant_lifecycle refuses reserved slugs; a row written behind its back must still
    # not serve.
    tenant_id = uuid.uuid4()
    admin_connection.execute(
        "INSERT INTO tenants (id, slug, name, status) VALUES (%s, 'api', 'Sneaky', 'active')",
        (tenant_id,))
    try:
        for host in (f"api.{ROOT_DOMAIN}", f"API.{ROOT_DOMAIN}:8080"):
            response = _login(client, host, "x@y.test")
            assert response.status_code == 404
            assert response.json["message"] == "no tenant or platform at this host"
    finally:
        admin_connection.execute("DELETE FROM tenants WHERE id = %s", (tenant_id,))


@pytest.mark.parametrize("host", [f"nosuchtenant.{ROOT_DOMAIN}", f"a.b.{ROOT_DOMAIN}",
                                  "example.com", f"{ROOT_DOMAIN}", "127.0.0.2"])
def test_unknown_hosts_are_404_before_any_view(client, host):
    # An invalid body would be 422 if the view's argument parsing ran: 404 comes first.
    response = HostClient(client, host).post("/api/v1/auth/login", json={"email": 5})
    assert response.status_code == 404
    assert set(response.json) == {"code", "status", "message"}


def test_inactive_tenant_is_403_before_any_view(app, client, tenant):
    token = tenant.token("owner")
    with app.app_context():
        set_status(tenant.id, "inactive")
        db.session.commit()
    for response in (_login(client, tenant.host, tenant.users["owner"]),
                     tenant.anonymous().post("/api/v1/auth/login", json={"email": 5}),
                     tenant.anonymous().with_token(token).get("/api/v1/auth/me")):
        assert response.status_code == 403
        assert response.json["message"] == f"tenant '{tenant.slug}' is inactive"


@pytest.mark.parametrize("status, reason, shown", [
    ("provisioning", "creating the database schema", "creating the database schema"),
    ("failed", "migration 20261122 failed", "migration 20261122 failed"),
    ("provisioning", None, "tenant is provisioning"),
    ("failed", None, "tenant is failed"),
])
def test_tenant_not_ready_is_503_with_the_reason(app, client, tenant, caplog, status, reason,
                                                 shown):
    with app.app_context():
        set_status(tenant.id, status, reason)
        db.session.commit()
    caplog.set_level(logging.WARNING, logger="tenantry")
    response = tenant.anonymous().post("/api/v1/auth/login", json={"email": 5})
    assert response.status_code == 503
    assert response.json["message"] == f"tenant '{tenant.slug}' is not ready: {shown}"
    logged = [r.getMessage() for r in caplog.records if r.name == "tenantry.tenancy"]
    assert any(tenant.slug in line and shown in line for line in logged), logged


def test_each_host_resolves_its_own_tenant(make_tenant):
    first, second = make_tenant(), make_tenant()
    for handle in (first, second):
        me = handle.as_role("owner").get("/api/v1/auth/me")
        assert (me.json["tenant_id"], me.json["tenant"]) == (str(handle.id), handle.slug)
