"""What authentication reads of a credential is cached per worker under the tenant's
state_version (core/tenancy.py; the cross-worker cases are in test_cache_across_workers.py):
a cached API key still stops at its expiry, its last_used_at is still refreshed at most once a
minute, and a warm request with a key or a JWT reads neither ``api_keys`` nor ``users``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from core.auth.apikey_services import create_key
from core.extensions import db
from core.testing.app import HostClient
from tests.fixtures.statements import statements_sent

PRODUCTS = "/api/v1/catalog/products"


def test_a_cached_key_still_stops_at_its_expiry(app, make_tenant):
    shop = make_tenant(modules=["catalog"])
    with app.app_context():
        issued = create_key(shop.id, label="short-lived", role="admin", created_by="test",
                            expires_at=datetime.now(UTC) + timedelta(seconds=2))
        db.session.commit()
    client = HostClient(shop.client, shop.host, api_key=issued.raw)
    assert client.get(PRODUCTS).status_code == 200
    assert client.get(PRODUCTS).status_code == 200  # served from the cache
    time.sleep(2.2)
    assert client.get(PRODUCTS).status_code == 401


def test_warm_requests_read_no_credential_rows_and_write_last_used_once(app, make_tenant):
    shop = make_tenant(modules=["catalog"])
    key = shop.as_api_key("admin")
    owner = shop.as_role("owner")
    assert key.get(PRODUCTS).status_code == 200 and owner.get(PRODUCTS).status_code == 200
    seen = statements_sent(app, lambda: [(key.get(PRODUCTS), owner.get(PRODUCTS))
                                     for _ in range(5)])
    assert not [s for s in seen if "tenantry_find_api_key" in s or "FROM users" in s]
    # The first request wrote last_used_at; five more within the minute write nothing.
    assert not [s for s in seen if s.startswith("UPDATE api_keys")]


def test_another_tenants_or_an_unknown_key_is_looked_up_once_per_request(app, make_tenant):
    """Never cached, and never looked up twice: what the cache's loader asked is the answer."""
    shop, other = make_tenant(modules=["catalog"]), make_tenant(modules=["catalog"])
    theirs = HostClient(shop.client, shop.host, api_key=other.api_key("admin"))
    unknown = HostClient(shop.client, shop.host, api_key="tnt_" + "x" * 43)
    answers = []
    seen = statements_sent(app, lambda: answers.extend(
        [theirs.get(PRODUCTS).status_code for _ in range(3)]
        + [unknown.get(PRODUCTS).status_code for _ in range(3)]))
    assert answers == [403] * 3 + [401] * 3
    assert len([s for s in seen if "tenantry_find_api_key" in s]) == 6
