"""Request rate limits (issue 18 item 1; core/rate_limits.py): quotas per tenant, API key,
user and client address, by plan, counted in the database for every worker and node, with the
IETF draft's headers and Retry-After on 429."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update

from core import create_app
from core.extensions import db
from core.models import RateLimitCounter
from core.testing.app import PLATFORM_HOST, HostClient, app_config
from core.testing.tenants import PASSWORD
from tests.fixtures.statements import statements_sent

PRODUCTS = "/api/v1/catalog/products"


@pytest.fixture
def limits(app):
    """Switch the limiter on with small quotas for one test (the suite runs it off)."""
    names = ("RATE_LIMIT_ENABLED", "RATE_LIMITS", "RATE_LIMITS_FREE", "RATE_LIMIT_ANONYMOUS",
             "RATE_LIMIT_WINDOW_SECONDS")
    saved = {name: app.config[name] for name in names}

    def set_limits(tenant=100, api_key=100, user=100, free=None, anonymous=100, window=60):
        app.config.update({
            "RATE_LIMIT_ENABLED": True, "RATE_LIMIT_WINDOW_SECONDS": window,
            "RATE_LIMITS": {"tenant": tenant, "api_key": api_key, "user": user},
            "RATE_LIMITS_FREE": free or {"tenant": tenant, "api_key": api_key, "user": user},
            "RATE_LIMIT_ANONYMOUS": anonymous})
        # Counters restart with each fixed window (aligned to the epoch): a test's requests
        # must not straddle a boundary, so it starts with at least 15 s of its window left
        # (a 90-request test once crossed one in CI and read the new window's counters).
        left = window - time.time() % window
        if left < 15:
            time.sleep(left + 0.05)

    yield set_limits
    app.config.update(saved)


def _statuses(client, times, path=PRODUCTS):
    return [client.get(path).status_code for _ in range(times)]


def test_an_api_key_gets_its_quota_then_429_with_the_headers(make_tenant, limits):
    tenant = make_tenant(modules=["catalog"])
    limits(api_key=3)
    key = tenant.as_api_key("admin")
    assert _statuses(key, 3) == [200] * 3
    refused = key.get(PRODUCTS)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["message"].startswith("rate limit exceeded (api_key)")
    assert re.fullmatch(r'"api_key";r=0;t=\d+', refused.headers["RateLimit"])
    assert '"api_key";q=3;w=60' in refused.headers["RateLimit-Policy"]
    # Another key of the same tenant has its own budget.
    assert tenant.as_api_key("admin").get(PRODUCTS).status_code == 200


def test_success_answers_say_what_remains(make_tenant, limits):
    tenant = make_tenant(modules=["catalog"])
    limits(tenant=50, user=10)
    owner = tenant.as_role("owner")
    first, second = owner.get(PRODUCTS), owner.get(PRODUCTS)
    assert first.headers["RateLimit-Policy"] == '"tenant";q=50;w=60, "user";q=10;w=60' or \
        first.headers["RateLimit-Policy"] == '"user";q=10;w=60, "tenant";q=50;w=60'
    assert first.headers["RateLimit"].startswith('"user";r=')
    remaining = [int(re.search(r"r=(\d+)", r.headers["RateLimit"]).group(1))
                 for r in (first, second)]
    assert remaining[0] - remaining[1] == 1


def test_the_tenant_quota_covers_all_its_callers_and_no_other_tenant(make_tenant, limits):
    tenant, other = make_tenant(modules=["catalog"]), make_tenant(modules=["catalog"])
    owner, key = tenant.as_role("owner"), tenant.as_api_key("admin")
    other_owner = other.as_role("owner")
    limits(tenant=4)
    assert [owner.get(PRODUCTS).status_code, key.get(PRODUCTS).status_code,
            owner.get(PRODUCTS).status_code, key.get(PRODUCTS).status_code] == [200] * 4
    refused = key.get(PRODUCTS)
    assert refused.status_code == 429
    assert "(tenant)" in refused.json["message"]
    assert _statuses(other_owner, 4) == [200] * 4


def test_a_user_quota_counts_per_user(make_tenant, limits):
    tenant = make_tenant(modules=["catalog"])
    owner, admin = tenant.as_role("owner"), tenant.as_role("admin")
    limits(user=2)
    assert _statuses(owner, 3) == [200, 200, 429]
    assert _statuses(admin, 2) == [200, 200]


def test_calls_without_credentials_count_per_client_address(make_tenant, limits):
    tenant = make_tenant()
    limits(anonymous=2)
    anonymous = tenant.anonymous()

    def login(address):
        return anonymous.post("/api/v1/auth/login", json={
            "email": tenant.users["owner"], "password": PASSWORD},
            environ_base={"REMOTE_ADDR": address}).status_code

    assert [login("192.0.2.10"), login("192.0.2.10"), login("192.0.2.10")] == [200, 200, 429]
    assert login("192.0.2.11") == 200


def test_a_refused_request_changes_nothing(make_tenant, limits, app):
    tenant = make_tenant(modules=["catalog"])
    limits(api_key=1)
    key = tenant.as_api_key("admin")
    assert key.get(PRODUCTS).status_code == 200
    refused = key.post(PRODUCTS, json={"sku": "RL-1", "name": "Never stored",
                                       "sale_price": "1.00"})
    assert refused.status_code == 429
    app.config["RATE_LIMIT_ENABLED"] = False
    listed = tenant.as_role("owner").get(PRODUCTS).json
    assert [product["sku"] for product in listed] == []


def test_the_free_plan_gets_the_free_quota(make_tenant, limits, platform_admin):
    tenant = make_tenant(modules=["catalog", "billing"])
    limits(api_key=5, free={"tenant": 100, "api_key": 2, "user": 100})
    key = tenant.as_api_key("admin")
    assert _statuses(key, 3) == [200, 200, 429]
    assert platform_admin.put(f"/api/v1/platform/tenants/{tenant.id}/plan",
                              json={"plan": "paid"}).status_code == 200
    paid = tenant.as_api_key("admin")
    assert _statuses(paid, 6) == [200] * 5 + [429]


def test_a_plan_changed_anywhere_applies_to_the_next_request(make_tenant, limits, app,
                                                              admin_connection):
    """The plan is cached under the tenant's state_version: a warm request does not read
    ``billing_accounts``, and a plan changed behind this worker's back (SQL as the superuser,
    as another node's request would) is seen at once — billing's triggers bump the version."""
    tenant = make_tenant(modules=["catalog", "billing"])
    limits(api_key=50, free={"tenant": 100, "api_key": 20, "user": 100})
    key = tenant.as_api_key("admin")
    assert '"api_key";q=20;w=60' in key.get(PRODUCTS).headers["RateLimit-Policy"]
    warm = statements_sent(app, lambda: key.get(PRODUCTS))
    assert not [s for s in warm if "billing_accounts" in s]
    admin_connection.execute("UPDATE billing_accounts SET plan = 'paid' WHERE tenant_id = %s",
                             (tenant.id,))
    assert '"api_key";q=50;w=60' in key.get(PRODUCTS).headers["RateLimit-Policy"]
    admin_connection.execute("DELETE FROM billing_accounts WHERE tenant_id = %s", (tenant.id,))
    assert '"api_key";q=20;w=60' in key.get(PRODUCTS).headers["RateLimit-Policy"]  # default


def test_workers_share_the_counters(make_tenant, limits, database):
    """A second app on the same database (another worker, another node) sees the same count."""
    tenant = make_tenant(modules=["catalog"])
    limits(api_key=2)
    key = tenant.api_key("admin")
    second = create_app(app_config(database, RATE_LIMIT_ENABLED=True, RATE_LIMITS={
        "tenant": 100, "api_key": 2, "user": 100}))
    here = HostClient(tenant.client, tenant.host, api_key=key)
    there = HostClient(second.test_client(), tenant.host, api_key=key)
    assert [here.get(PRODUCTS).status_code, there.get(PRODUCTS).status_code,
            here.get(PRODUCTS).status_code] == [200, 200, 429]



def _counter_reads(app, call) -> int:
    """How many reads of the counters ``call()`` sent on the request's connection."""
    return len([s for s in statements_sent(app, call) if "FROM rate_limit_counters" in s])


def test_far_from_its_quota_a_request_is_decided_without_reading_the_counters(
        make_tenant, limits, app):
    """The increment returns the counters' values; the next request of this process decides
    on them while they are more than a tenth of the quota (at least 10) below it."""
    tenant = make_tenant(modules=["catalog"])
    limits(tenant=1000, api_key=100)
    key = tenant.as_api_key("admin")
    assert _counter_reads(app, lambda: key.get(PRODUCTS)) == 1  # not known yet: read
    # The 2nd to the 90th request: at most 89 known, 10 or more below 100.
    assert _counter_reads(app, lambda: _statuses(key, 89)) == 0
    assert _counter_reads(app, lambda: _statuses(key, 10)) == 10  # 91..100: read
    assert key.get(PRODUCTS).status_code == 429
    assert key.get(PRODUCTS).headers["RateLimit"].startswith('"api_key";r=0;')


def test_another_worker_can_lag_by_one_request_per_counter_and_window(
        make_tenant, limits, database):
    """The documented bound of deciding on known values: a process that last saw a counter far
    below its quota admits one request after other processes used the quota up, learns the
    count from that request's increment, and refuses from then on."""
    tenant = make_tenant(modules=["catalog"])
    limits(api_key=20)
    key = tenant.api_key("admin")
    quotas = {"tenant": 1000, "api_key": 20, "user": 100}
    second = create_app(app_config(database, RATE_LIMIT_ENABLED=True, RATE_LIMITS=quotas,
                                   RATE_LIMITS_FREE=quotas))
    here = HostClient(tenant.client, tenant.host, api_key=key)
    there = HostClient(second.test_client(), tenant.host, api_key=key)
    assert _statuses(here, 5) == [200] * 5
    assert _statuses(there, 16) == [200] * 15 + [429]  # near the quota: exact
    assert _statuses(here, 2) == [200, 429]  # it knew 5 of 20: one too many, then exact


def test_a_new_window_starts_a_new_count(make_tenant, limits, app):
    tenant = make_tenant(modules=["catalog"])
    limits(api_key=1)
    key = tenant.as_api_key("admin")
    assert _statuses(key, 2) == [200, 429]
    with app.app_context():  # as if the window had passed: its counter belongs to the past
        db.session.execute(update(RateLimitCounter).values(
            window_start=RateLimitCounter.window_start - timedelta(minutes=2)))
        db.session.commit()
    assert key.get(PRODUCTS).status_code == 200


def test_no_key_email_or_address_is_stored(make_tenant, limits, app):
    tenant = make_tenant(modules=["catalog"])
    limits()
    raw_key = tenant.api_key("admin")
    HostClient(tenant.client, tenant.host, api_key=raw_key).get(PRODUCTS)
    tenant.anonymous().post("/api/v1/auth/login", json={"email": "x@example.test",
                                                        "password": "wrong-password"})
    with app.app_context():
        keys = db.session.execute(text("SELECT key FROM rate_limit_counters")).scalars().all()
    assert keys and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
    assert not any(raw_key in key or "127.0.0.1" in key or str(tenant.id) in key
                   for key in keys)


def test_probes_are_never_limited(client, limits):
    limits(anonymous=1)
    statuses = [client.get("/healthz").status_code for _ in range(5)]
    assert statuses == [200] * 5


def test_off_means_no_count_and_no_headers(make_tenant, app):
    tenant = make_tenant(modules=["catalog"])
    assert app.config["RATE_LIMIT_ENABLED"] is False
    response = tenant.as_role("owner").get(PRODUCTS)
    assert "RateLimit" not in response.headers


def test_every_operation_but_the_probes_documents_429_and_the_headers(app):
    spec = HostClient(app.test_client(), PLATFORM_HOST).get("/api/v1/openapi.json").json
    missing = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            answers = operation["responses"]
            limited = path not in ("/healthz", "/health", "/readyz")
            if limited != ("429" in answers):
                missing.append(f"{method.upper()} {path}")
            elif limited and "RateLimit" not in answers["429"]["headers"]:
                missing.append(f"{method.upper()} {path} headers")
    assert missing == []


def test_old_windows_are_pruned_sometimes(make_tenant, limits, app, monkeypatch):
    from core import rate_limits

    tenant = make_tenant(modules=["catalog"])
    limits()
    with app.app_context():
        db.session.execute(text(
            "INSERT INTO rate_limit_counters (key, window_start, hits) VALUES (:k, :w, 1)"),
            {"k": "0" * 64, "w": datetime.now(UTC) - timedelta(hours=1)})
        db.session.commit()
    monkeypatch.setattr(rate_limits, "_PRUNE_CHANCE", 1.0)
    tenant.as_role("owner").get(PRODUCTS)
    with app.app_context():
        left = db.session.execute(text(
            "SELECT count(*) FROM rate_limit_counters WHERE key = :k"), {"k": "0" * 64}).scalar()
    assert left == 0


def test_a_counter_that_cannot_be_written_fails_open(make_tenant, limits, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from core import rate_limits

    tenant = make_tenant(modules=["catalog"])
    limits(api_key=1)

    def unreachable(*args):
        raise OperationalError("INSERT ...", {}, Exception("server closed the connection"))

    monkeypatch.setattr(rate_limits, "_increment", unreachable)
    key = tenant.as_api_key("admin")
    answers = [key.get(PRODUCTS) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200] * 3  # nothing was counted
