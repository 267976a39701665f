"""The per-worker tenant and toggle cache: a warm request reads neither the tenant nor its
toggles again, yet a change made through the same app or through another one (another worker,
another node) takes effect on the very next request: each request checks the cached copies
against the tenant's state_version, read with its scope statement (core/tenancy.py)."""

from __future__ import annotations

import time

import pytest

from core import create_app
from core.cache import TTLCache
from core.extensions import db
from core.tenant_lifecycle import set_status
from core.testing.app import (
    PLATFORM_EMAIL,
    PLATFORM_HOST,
    PLATFORM_PASSWORD,
    HostClient,
    app_config,
)
from tests.fixtures.statements import statements_sent


@pytest.fixture(scope="module")
def cached_app(database):
    application = create_app(app_config(database, TENANT_STATE_CACHE_SECONDS=300))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def cached(cached_app):
    """Clients of the caching app: ``tenant(handle)`` and ``platform``."""
    client = cached_app.test_client()
    login = HostClient(client, PLATFORM_HOST).post(
        "/api/v1/platform/auth/login", json={"email": PLATFORM_EMAIL,
                                             "password": PLATFORM_PASSWORD})

    class Clients:
        platform = HostClient(client, PLATFORM_HOST, token=login.json["access_token"])

        @staticmethod
        def tenant(handle, role="owner"):
            return HostClient(client, handle.host, token=handle.token(role))

    return Clients


def test_the_cache_really_caches(cached_app, make_tenant, cached):
    handle = make_tenant(modules=["users"])
    owner = cached.tenant(handle)
    assert owner.get("/api/v1/users").status_code == 200  # tenant and toggles now cached
    sent = statements_sent(cached_app, lambda: owner.get("/api/v1/users"))
    reads = [s for s in sent if ("FROM tenants" in s or "FROM tenant_modules" in s)
             and not s.startswith("SELECT state_version FROM tenants")]
    assert reads == []
    assert any(s.startswith("SELECT state_version FROM tenants WHERE id") for s in sent)


def test_another_workers_change_is_seen_by_the_next_request(app, cached_app, make_tenant,
                                                            cached):
    handle = make_tenant(modules=["users"])
    owner = cached.tenant(handle)
    other_worker = handle.as_role("owner")  # the session app: its own caches
    assert owner.get("/api/v1/users").status_code == 200  # cached here
    assert other_worker.patch("/api/v1/tenant/settings", json={"modules": {
        "users": {"enabled": False}}}).status_code == 200
    assert owner.get("/api/v1/users").status_code == 403
    assert other_worker.patch("/api/v1/tenant/settings", json={"modules": {
        "users": {"enabled": True}}}).status_code == 200
    assert owner.get("/api/v1/users").status_code == 200
    with app.app_context():  # a platform operator elsewhere deactivates the tenant
        set_status(handle.id, "inactive")
        db.session.commit()
    refused = owner.get("/api/v1/auth/me")
    assert refused.status_code == 403 and "inactive" in refused.json["message"]


def test_deactivation_through_the_same_app_is_effective_at_once(tenant, cached):
    owner = cached.tenant(tenant)
    assert owner.get("/api/v1/auth/me").status_code == 200  # tenant now cached
    response = cached.platform.post(f"/api/v1/platform/tenants/{tenant.id}/deactivate")
    assert response.status_code == 200
    refused = owner.get("/api/v1/auth/me")
    assert refused.status_code == 403
    assert "inactive" in refused.json["message"]
    assert cached.platform.post(
        f"/api/v1/platform/tenants/{tenant.id}/activate").status_code == 200
    assert owner.get("/api/v1/auth/me").status_code == 200


def test_status_change_through_the_same_app_is_effective_at_once(tenant, cached):
    owner = cached.tenant(tenant)
    assert owner.get("/api/v1/auth/me").status_code == 200
    cached.platform.patch(f"/api/v1/platform/tenants/{tenant.id}",
                          json={"status": "failed", "status_reason": "restore running"})
    response = owner.get("/api/v1/auth/me")
    assert response.status_code == 503 and "restore running" in response.json["message"]


def test_module_toggles_through_the_same_app_are_effective_at_once(make_tenant, cached):
    handle = make_tenant(modules=["users"])
    owner = cached.tenant(handle)
    assert owner.get("/api/v1/users").status_code == 200  # toggles now cached
    off = owner.patch("/api/v1/tenant/settings", json={"modules": {"users": {"enabled": False}}})
    assert off.status_code == 200
    assert owner.get("/api/v1/users").status_code == 403
    cached.platform.put(f"/api/v1/platform/tenants/{handle.id}/modules/users")
    assert owner.get("/api/v1/users").status_code == 200


def test_entries_expire_after_the_ttl():
    cache = TTLCache(0.05)
    loads = []
    assert cache.get_or_load("k", lambda: loads.append(1) or "first") == "first"
    assert cache.get_or_load("k", lambda: loads.append(1) or "second") == "first"
    time.sleep(0.1)
    assert cache.get_or_load("k", lambda: loads.append(1) or "third") == "third"
    assert len(loads) == 2
    assert TTLCache(0).get_or_load("k", lambda: "x") == "x"  # TTL 0: never cached
