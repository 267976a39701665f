"""Runbook 000 end to end over HTTP, as an operator and a tenant owner would walk it:
health, platform login, tenant with owner, template applied, owner login on the tenant's host,
/auth/me, module toggles in the tenant settings and their effect on the module's routes."""

from __future__ import annotations

import uuid

from core.testing.app import PLATFORM_EMAIL, PLATFORM_PASSWORD, ROOT_DOMAIN, HostClient

OWNER_PASSWORD = "owner-password-000"


def test_runbook_000_walkthrough(client, platform):
    # Running and health
    for path in ("/healthz", "/api/v1/health", "/readyz", "/api/v1/health/ready"):
        assert client.get(path).status_code == 200, path

    # Platform admin: a platform JWT from the configured first owner
    assert platform.get("/api/v1/platform/tenants").status_code == 401
    login = platform.post("/api/v1/platform/auth/login",
                          json={"email": PLATFORM_EMAIL, "password": PLATFORM_PASSWORD})
    assert login.status_code == 200
    admin = platform.with_token(login.json["access_token"])

    # ... create a tenant with its owner, a template, and apply the template
    slug = f"rb{uuid.uuid4().hex[:8]}"
    owner_email = f"owner@{slug}.example"
    tenant = admin.post("/api/v1/platform/tenants", json={
        "slug": slug, "name": "Runbook Shop",
        "owner": {"email": owner_email, "password": OWNER_PASSWORD}})
    assert tenant.status_code == 201, tenant.json
    template_key = f"shop-{slug}"
    template = admin.post("/api/v1/platform/templates", json={
        "key": template_key, "name": "Shop", "modules": {"users": {}}})
    assert template.status_code == 201, template.json
    applied = admin.post(
        f"/api/v1/platform/tenants/{tenant.json['id']}/apply-template/{template_key}")
    assert applied.status_code == 200
    assert "enabled users" in applied.json["changes"]

    # Login with owner credentials on <slug>.<ROOT_DOMAIN>, then the authenticated echo
    host = HostClient(client, f"{slug}.{ROOT_DOMAIN}")
    owner_login = host.post("/api/v1/auth/login",
                            json={"email": owner_email, "password": OWNER_PASSWORD})
    assert owner_login.status_code == 200
    owner = host.with_token(owner_login.json["access_token"])
    me = owner.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert (me.json["role"], me.json["tenant"], me.json["tenant_id"]) == (
        "owner", slug, tenant.json["id"])

    # Tenant module toggles (owner only) are enforced on the module's routes
    settings = owner.get("/api/v1/tenant/settings")
    assert next(m for m in settings.json["modules"] if m["key"] == "users")["enabled"] is True
    cashier = owner.post("/api/v1/users", json={"email": f"till@{slug}.example",
                                                "password": OWNER_PASSWORD, "role": "cashier"})
    assert cashier.status_code == 201
    cashier_client = host.with_token(host.post("/api/v1/auth/login", json={
        "email": f"till@{slug}.example", "password": OWNER_PASSWORD}).json["access_token"])
    assert cashier_client.patch("/api/v1/tenant/settings", json={
        "modules": {"users": {"enabled": False}}}).status_code == 403

    off = owner.patch("/api/v1/tenant/settings", json={"modules": {"users": {"enabled": False}}})
    assert off.status_code == 200 and off.json["changes"] == ["disabled users"]
    refused = owner.get("/api/v1/users")
    assert refused.status_code == 403
    assert refused.json == {"code": 403, "status": "Forbidden",
                            "message": "module 'users' is not enabled for this tenant"}

    on = owner.patch("/api/v1/tenant/settings", json={"modules": {"users": {"enabled": True}}})
    assert on.status_code == 200 and on.json["changes"] == ["enabled users"]
    listed = owner.get("/api/v1/users")
    assert listed.status_code == 200
    assert {u["email"] for u in listed.json} == {owner_email, f"till@{slug}.example"}

    # Platform routes stay on platform hosts; an inactive tenant answers 403
    assert owner.get("/api/v1/platform/tenants").status_code == 404
    assert admin.post(f"/api/v1/platform/tenants/{tenant.json['id']}/deactivate"
                      ).status_code == 200
    assert owner.get("/api/v1/auth/me").status_code == 403
