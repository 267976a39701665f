"""Caches that are correct on every worker (issue 15, "correctness first"): gunicorn with two
real worker processes and a cache TTL of five minutes. Both workers have the tenant and its
toggles cached; a module switched off through one worker answers 403 on the very next
request of the other, switched on again 200, and a deactivated tenant 403 — no stale answer.
Requests are steered to one worker by keeping the other busy with a half-sent request."""

from __future__ import annotations

import json

import pytest

from core.testing.tenants import PASSWORD
from tests.core.gunicorn_server import gunicorn, held_request, http, release


@pytest.fixture
def two_workers(app, database, tmp_path):
    with gunicorn(database, tmp_path, 2, TENANT_STATE_CACHE_SECONDS="300") as (_process, url):
        yield url


def _each_worker(url: str, call) -> list:
    """``call()`` served by one worker, then by the other (the first kept busy meanwhile)."""
    port = int(url.rsplit(":", 1)[1])
    answers = []
    for _ in range(2):
        busy = held_request(port)  # one worker waits for the rest of this request
        answers += [call() for _ in range(5)]  # served by the other one
        assert release(busy) == 200
    return answers


def test_a_change_through_one_worker_is_seen_by_the_next_request_of_the_other(
        two_workers, make_tenant, platform_admin):
    shop = make_tenant(modules=["users"])
    bearer = {"Authorization": f"Bearer {shop.token('owner')}"}

    def users() -> int:
        return http(two_workers + "/api/v1/users", host=shop.host, headers=bearer)[0]

    def switch(enabled: bool) -> int:
        body = json.dumps({"modules": {"users": {"enabled": enabled}}}).encode()
        return http(two_workers + "/api/v1/tenant/settings", host=shop.host, method="PATCH",
                    headers={**bearer, "Content-Type": "application/json"}, body=body)[0]

    assert _each_worker(two_workers, users) == [200] * 10  # cached on both workers
    assert switch(False) == 200  # through one of them
    assert _each_worker(two_workers, users) == [403] * 10
    assert switch(True) == 200
    assert _each_worker(two_workers, users) == [200] * 10
    assert platform_admin.post(f"/api/v1/platform/tenants/{shop.id}/deactivate"
                               ).status_code == 200  # another app altogether
    assert _each_worker(two_workers, users) == [403] * 10



def test_a_users_change_through_one_worker_is_seen_by_the_next_request_of_the_other(
        two_workers, make_tenant):
    """What authentication reads of a user is cached too: a demotion and a deactivation are
    each refused on the very next request of the worker that did not make the change."""
    shop = make_tenant(modules=["users"])
    owner = {"Authorization": f"Bearer {shop.token('owner')}"}
    second = shop.add_user("owner", email=f"second@{shop.slug}.test")
    login = json.dumps({"email": second, "password": PASSWORD}).encode()
    status, body = http(two_workers + "/api/v1/auth/login", host=shop.host, method="POST",
                        headers={"Content-Type": "application/json"}, body=login)
    assert status == 200
    token = json.loads(body)["access_token"]
    status, body = http(two_workers + "/api/v1/users", host=shop.host, headers=owner)
    [user] = [user for user in json.loads(body) if user["email"] == second]

    def list_users() -> int:  # owners only
        return http(two_workers + "/api/v1/users", host=shop.host,
                    headers={"Authorization": f"Bearer {token}"})[0]

    def change(changes: dict) -> int:
        return http(two_workers + f"/api/v1/users/{user['id']}", host=shop.host,
                    method="PATCH", headers={**owner, "Content-Type": "application/json"},
                    body=json.dumps(changes).encode())[0]

    assert _each_worker(two_workers, list_users) == [200] * 10  # cached on both workers
    assert change({"role": "admin"}) == 200  # through one of them
    assert _each_worker(two_workers, list_users) == [403] * 10
    assert change({"role": "owner"}) == 200
    assert _each_worker(two_workers, list_users) == [200] * 10
    assert change({"active": False}) == 200
    assert _each_worker(two_workers, list_users) == [401] * 10


def test_a_revoked_api_key_is_refused_by_the_next_request_of_the_other_worker(
        two_workers, make_tenant):
    """An API key on its tenant's host is cached too; revoking it through one worker is seen
    by the very next request of the other."""
    shop = make_tenant(modules=["catalog"])
    owner = {"Authorization": f"Bearer {shop.token('owner')}"}
    raw = shop.api_key("admin")

    def products() -> int:
        return http(two_workers + "/api/v1/catalog/products", host=shop.host,
                    headers={"X-API-Key": raw})[0]

    assert _each_worker(two_workers, products) == [200] * 10  # cached on both workers
    status, body = http(two_workers + "/api/v1/api-keys", host=shop.host, headers=owner)
    assert status == 200
    [key] = json.loads(body)
    assert http(two_workers + f"/api/v1/api-keys/{key['id']}/revoke", host=shop.host,
                method="POST", headers=owner)[0] == 200  # through one of them
    assert _each_worker(two_workers, products) == [401] * 10
