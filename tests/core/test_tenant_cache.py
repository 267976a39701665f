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
    # The schema's readiness cached too, as in production: a request that checks it has
    # begun its transaction before it looks up the tenant.
    application = create_app(app_config(database, TENANT_STATE_CACHE_SECONDS=300,
                                        TENANT_CACHE_TTL=300))
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


def _forget_everything(application) -> None:
    from core.app_state import app_state

    app_state(application).tenancy.invalidate()


def test_a_cold_request_reads_tenant_and_toggles_in_the_messages_that_scope_it(
        cached_app, make_tenant, cached):
    """On a cache miss the tenant's row rides in the message that begins the transaction
    (unscoped, with the time limits) and its toggles in the one that scopes it to the tenant:
    no statement of their own (issue 15, the 100,000-tenant curve)."""
    handle = make_tenant(modules=["users"])
    owner = cached.tenant(handle)
    assert owner.get("/api/v1/users").status_code == 200
    _forget_everything(cached_app)
    sent = statements_sent(cached_app, lambda: owner.get("/api/v1/users"))
    opening, scoping = sent[0], sent[1]
    assert opening.startswith(f"SELECT id, slug, name, status, status_reason, state_version "
                              f"FROM tenants WHERE slug = '{handle.slug}'"), sent
    assert "SET LOCAL app.tenant_id = ''" in opening and "statement_timeout" in opening
    assert scoping.startswith(f"SELECT state_version FROM tenants WHERE id = '{handle.id}'")
    assert f"SET LOCAL app.tenant_id = '{handle.id}'" in scoping
    assert scoping.endswith(f"FROM tenant_modules WHERE tenant_id = '{handle.id}'"), scoping
    assert not [s for s in sent[2:] if "FROM tenants" in s or "FROM tenant_modules" in s], sent
    # What the messages read is what the caches now hold: the next request reads neither.
    warm = statements_sent(cached_app, lambda: owner.get("/api/v1/users"))
    assert not [s for s in warm if "FROM tenant_modules" in s or "WHERE slug" in s], warm


def test_a_cold_request_answers_as_a_warm_one(cached_app, make_tenant, cached, tenant):
    """The toggles read with the scope decide as the ones read on their own: a module the
    tenant has not enabled is refused on a cold request too; an inactive tenant is refused
    and its transaction was never scoped to it."""
    handle = make_tenant(modules=["users"])
    owner = cached.tenant(handle)
    _forget_everything(cached_app)
    assert owner.get("/api/v1/users").status_code == 200
    _forget_everything(cached_app)
    refused = owner.get("/api/v1/catalog/products")
    assert refused.status_code == 403, refused.json
    other = cached.tenant(tenant)
    assert cached.platform.post(
        f"/api/v1/platform/tenants/{tenant.id}/deactivate").status_code == 200
    _forget_everything(cached_app)
    answers = []
    sent = statements_sent(cached_app, lambda: answers.append(other.get("/api/v1/auth/me")))
    assert answers[0].status_code == 403 and "inactive" in answers[0].json["message"]
    assert not [s for s in sent if f"SET LOCAL app.tenant_id = '{tenant.id}'" in s], sent
    assert cached.platform.post(
        f"/api/v1/platform/tenants/{tenant.id}/activate").status_code == 200


@pytest.mark.parametrize("label", ["no-such-shop", "semi;colon", "quo'te", "-dash", "under_score"])
def test_a_host_no_tenant_can_have_answers_404(cached, label, cached_app):
    """A label outside the slug rule is never written into SQL: 404 without a statement."""
    from core.testing.app import ROOT_DOMAIN

    client = HostClient(cached_app.test_client(), f"{label}.{ROOT_DOMAIN}")
    sent = []
    response = None

    def call():
        nonlocal response
        response = client.get("/api/v1/auth/me")

    sent = statements_sent(cached_app, call)
    assert response.status_code == 404, response.json
    if label != "no-such-shop":
        assert not [s for s in sent if "tenants" in s], sent


def test_put_and_holds_follow_the_ttl():
    cache = TTLCache(0.05)
    cache.put("k", "v")
    assert cache.holds("k") and cache.get_or_load("k", lambda: "other") == "v"
    time.sleep(0.1)
    assert not cache.holds("k")
    off = TTLCache(0)
    off.put("k", "v")
    assert not off.holds("k")


def test_with_the_cache_off_the_scope_message_reads_no_toggles(database, make_tenant):
    """TENANT_STATE_CACHE_SECONDS=0 keeps nothing: toggles read with the scope would be read
    again where they are used, so the scope message does not carry them."""
    application = create_app(app_config(database, TENANT_STATE_CACHE_SECONDS=0,
                                        TENANT_CACHE_TTL=300))
    try:
        handle = make_tenant(modules=["users"])
        owner = HostClient(application.test_client(), handle.host, token=handle.token("owner"))
        assert owner.get("/api/v1/users").status_code == 200
        answers = []
        sent = statements_sent(application, lambda: answers.append(owner.get("/api/v1/users")))
        assert answers[0].status_code == 200
        scoping = [s for s in sent if f"SET LOCAL app.tenant_id = '{handle.id}'" in s]
        assert scoping and not [s for s in scoping if "tenant_modules" in s], sent
    finally:
        with application.app_context():
            db.engine.dispose()
