"""Runbook 002 end to end over HTTP, as a ClinCore operator and client would run it:
bootstrap -> key -> /health -> /admin/usage -> POST /cases until the free tier is exhausted
(402, nothing created) -> plan set to paid -> 201 -> rotate (old key 401) -> revoke (401).

Along the way: the raw keys appear only in the answers that created them — not in any table
(scanned as a superuser) and not in any log line.
"""

from __future__ import annotations

import logging

from core.testing.app import PLATFORM_EMAIL, PLATFORM_HOST, PLATFORM_PASSWORD, HostClient
from tests.fixtures.apikeys import CLINIC_FREE_TIER_LIMIT, bootstrap_over_http


def _platform_admin(client) -> HostClient:
    platform = HostClient(client, PLATFORM_HOST)
    response = platform.post("/api/v1/platform/auth/login",
                             json={"email": PLATFORM_EMAIL, "password": PLATFORM_PASSWORD})
    assert response.status_code == 200, response.json
    return platform.with_token(response.json["access_token"])


def _case_rows(admin_connection, tenant_id) -> int:
    return admin_connection.execute("SELECT count(*) FROM cases WHERE tenant_id = %s",
                                    (tenant_id,)).fetchone()[0]


def _database_text_containing(admin_connection, needle: str) -> list[str]:
    """Every (table) in the public schema whose rows, as text, contain ``needle``."""
    tables = [row[0] for row in admin_connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
    assert "api_keys" in tables and "cases" in tables
    found = []
    for table in tables:
        hit = admin_connection.execute(
            f'SELECT 1 FROM "{table}" t WHERE strpos(t::text, %s) > 0 LIMIT 1',
            (needle,)).fetchone()
        if hit:
            found.append(table)
    return found


def test_runbook_002_walk(clinic_client, admin_connection, caplog):
    caplog.set_level(logging.DEBUG)

    # §2: provision the first tenant and its key.
    clinic = bootstrap_over_http(clinic_client, "Acme Clinic Runbook")
    assert clinic.slug == "acme-clinic-runbook"
    api = clinic.clincore()

    # §4: live endpoint.
    assert api.anonymous().get("/health").json == {"status": "ok"}

    # §4: admin usage with the bootstrap key (admin role).
    usage = api.get("/admin/usage")
    assert usage.status_code == 200, usage.json
    assert set(usage.json) == {"total_calls", "calls_by_endpoint", "last_24h_count"}
    assert usage.json["total_calls"] == 0  # this call is counted once it has succeeded

    # §3: POST /cases until the free tier (5 calls) is exhausted.
    created = 0
    while True:
        response = api.post("/cases", json={"title": f"Case {created}", "patient_ref": "MRN-1"})
        if response.status_code != 201:
            break
        created += 1
        assert created < 10, "the free tier never ran out"
    assert created == CLINIC_FREE_TIER_LIMIT - 1  # the /admin/usage call used one
    assert response.status_code == 402
    assert response.json["code"] == 402
    assert "free tier exhausted" in response.json["message"]
    assert _case_rows(admin_connection, clinic.id) == created  # the 402 created nothing
    again = api.post("/cases", json={"title": "still refused"})
    assert again.status_code == 402
    assert _case_rows(admin_connection, clinic.id) == created
    # Reading is not metered: the tenant still sees its cases.
    listed = api.get("/cases")
    assert listed.status_code == 200 and len(listed.json) == created

    usage = api.get("/admin/usage").json
    assert usage["total_calls"] == CLINIC_FREE_TIER_LIMIT + 1  # refused calls are not counted
    assert usage["calls_by_endpoint"] == {"GET /admin/usage": 1, "POST /cases": created,
                                          "GET /cases": 1}
    assert usage["last_24h_count"] == usage["total_calls"]

    # §3 "To upgrade a tenant": the plan lives with the tenant, set by the platform.
    upgraded = _platform_admin(clinic_client).put(
        f"/api/v1/platform/tenants/{clinic.id}/plan", json={"plan": "paid"})
    assert upgraded.status_code == 200, upgraded.json
    assert upgraded.json["plan"] == "paid"
    paid = api.post("/cases", json={"title": "after the upgrade"})
    assert paid.status_code == 201, paid.json
    assert _case_rows(admin_connection, clinic.id) == created + 1

    # §3: rotate. The new key is shown once; the old one stops working at once.
    rotated = api.post("/auth/api-keys/rotate")
    assert rotated.status_code == 201, rotated.json
    new_key = rotated.json["api_key"]
    assert new_key != clinic.api_key
    assert rotated.json["label"] == "bootstrap-Acme Clinic Runbook"
    assert rotated.json["role"] == "admin"
    old_answer = api.get("/admin/usage")
    assert old_answer.status_code == 401
    new_api = clinic.clincore(new_key)
    assert new_api.get("/admin/usage").status_code == 200

    # §3: revoke (the new key revokes itself) -> 401 from then on.
    key_id = rotated.json["id"]
    revoked = new_api.post(f"/admin/api-keys/revoke/{key_id}")
    assert revoked.status_code == 200, revoked.json
    assert revoked.json["status"] == "revoked"
    after = new_api.get("/admin/usage")
    assert after.status_code == 401
    assert after.json["message"] == old_answer.json["message"] == "invalid API key"

    # The raw keys were shown once and stored nowhere.
    for raw in (clinic.api_key, new_key):
        assert _database_text_containing(admin_connection, raw) == []
        leaked = [r.getMessage() for r in caplog.records if raw in r.getMessage()
                  or raw in str(r.args) or raw in str(getattr(r, "fields", ""))]
        assert leaked == []
    assert any(r.name == "tenantry.access" for r in caplog.records)  # logs were captured
