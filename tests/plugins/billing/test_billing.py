"""Billing: usage counters, the usage report, plans (platform API and CLI), the free-tier cap
on metered actions, and the metered-actions hookspec."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import text

from core.extensions import db
from core.modules import disable_module
from core.rls import tenant_context
from core.testing.app import HostClient
from plugins.billing import services
from plugins.billing.metering import metered_actions
from tests.fixtures.apikeys import CLINIC_FREE_TIER_LIMIT, bootstrap_over_http

# --------------------------------------------------------------------------- counting


def test_usage_counts_successful_calls_per_url_rule(bootstrap):
    clinic = bootstrap()
    api = clinic.clincore()
    case_id = api.post("/cases", json={"title": "a"}).json["id"]
    api.get(f"/cases/{case_id}")
    api.get(f"/api/v1/cases/{case_id}")
    api.get(f"/cases/{uuid.uuid4()}")  # 404: not counted
    api.post("/cases", json={})  # 422: not counted
    usage = api.get("/admin/usage").json
    assert usage == {
        "total_calls": 3, "last_24h_count": 3,
        "calls_by_endpoint": {"POST /cases": 1, "GET /cases/<uuid:case_id>": 1,
                              "GET /api/v1/cases/<uuid:case_id>": 1}}
    assert api.get("/api/v1/admin/usage").json["total_calls"] == 4


def test_user_logins_are_metered_too(tenant, make_tenant):
    clinic = make_tenant(modules=["cases"])
    owner = clinic.as_role("owner")
    owner.get("/api/v1/cases")
    owner.get("/api/v1/cases")
    usage = owner.get("/api/v1/billing/usage").json
    assert usage["calls_by_endpoint"] == {"GET /api/v1/cases": 2}


def test_usage_is_per_tenant(bootstrap):
    first, second = bootstrap(), bootstrap()
    for _ in range(3):
        first.clincore().get("/cases")
    assert second.clincore().get("/admin/usage").json["total_calls"] == 0
    assert first.clincore().get("/admin/usage").json["total_calls"] == 3


def test_last_24h_leaves_out_older_hours(bootstrap, admin_connection):
    clinic = bootstrap()
    api = clinic.clincore()
    api.get("/cases")
    admin_connection.execute(
        "INSERT INTO billing_usage_hourly (tenant_id, hour, endpoint, shard, calls) "
        "VALUES (%s, date_trunc('hour', now()) - interval '30 hours', 'GET /cases', 0, 50)",
        (clinic.id,))
    admin_connection.execute(
        "UPDATE billing_usage_totals SET calls = calls + 50 WHERE tenant_id = %s "
        "AND endpoint = 'GET /cases' AND shard = (SELECT min(shard) FROM billing_usage_totals "
        "WHERE tenant_id = %s)", (clinic.id, clinic.id))
    usage = api.get("/admin/usage").json
    assert usage["total_calls"] == 51
    assert usage["last_24h_count"] == 1


def test_concurrent_calls_are_all_counted(clinic_app, admin_connection):
    clinic = bootstrap_over_http(clinic_app.test_client())
    with clinic_app.app_context(), tenant_context(clinic.id):
        services.set_plan(clinic.id, "paid", actor="test")
        db.session.commit()
    threads, per_thread, errors = 6, 8, []

    def worker():
        api = HostClient(clinic_app.test_client(), "localhost", api_key=clinic.api_key)
        for _ in range(per_thread):
            status = api.get("/cases").status_code
            if status != 200:
                errors.append(status)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    total = admin_connection.execute(
        "SELECT sum(calls), count(*) FROM billing_usage_totals WHERE tenant_id = %s",
        (clinic.id,)).fetchone()
    assert total[0] == threads * per_thread
    assert total[1] <= 8  # bounded by the shard count, whatever the number of calls


# --------------------------------------------------------------------------- /admin/usage


def test_admin_usage_refuses_user_keys_anonymous_and_logins(bootstrap, tenant):
    clinic = bootstrap()
    user_key = clinic.clincore().post("/admin/api-keys", json={"label": "u"}).json["api_key"]
    response = clinic.clincore(user_key).get("/admin/usage")
    assert response.status_code == 403
    assert clinic.on_host(user_key).anonymous().get("/admin/usage").status_code == 401
    assert tenant.as_role("owner").get("/admin/usage").status_code == 403  # keys only


def test_admin_usage_with_billing_disabled_is_403_and_not_metered(bootstrap, app):
    clinic = bootstrap()
    with app.app_context():
        disable_module(clinic.id, "billing", by_platform=True)
        db.session.commit()
    response = clinic.clincore().get("/admin/usage")
    assert response.status_code == 403
    assert response.json["message"] == "module 'billing' is not enabled for this tenant"
    assert clinic.clincore().get("/cases").status_code == 200
    with app.app_context(), tenant_context(clinic.id):
        assert services.total_calls(clinic.id) == 0


def test_tenant_billing_endpoints(make_tenant):
    clinic = make_tenant(modules=["cases"])
    owner = clinic.as_role("owner")
    plan = owner.get("/api/v1/billing/plan")
    assert plan.status_code == 200
    assert plan.json["plan"] == "free" and plan.json["metered_actions_allowed"] is True
    assert clinic.as_role("admin").get("/api/v1/billing/usage").status_code == 200
    assert clinic.as_role("cashier").get("/api/v1/billing/usage").status_code == 403
    assert clinic.anonymous().get("/api/v1/billing/plan").status_code == 401


# --------------------------------------------------------------------------- plans


def test_platform_sets_and_reads_a_plan(bootstrap, platform_admin):
    clinic = bootstrap()
    path = f"/api/v1/platform/tenants/{clinic.id}/plan"
    assert platform_admin.get(path).json["plan"] == "free"
    changed = platform_admin.put(path, json={"plan": "paid"})
    assert changed.status_code == 200
    assert changed.json["plan"] == "paid"
    assert changed.json["updated_by"].startswith("platform:")
    assert platform_admin.get(path).json["plan"] == "paid"
    assert clinic.clincore().get("/api/v1/billing/plan").json["plan"] == "paid"


def test_platform_plan_errors(bootstrap, platform_admin, platform):
    clinic = bootstrap()
    path = f"/api/v1/platform/tenants/{clinic.id}/plan"
    for body in ({"plan": "gold"}, {}, {"plan": None}):
        assert platform_admin.put(path, json=body).status_code == 422
    missing = f"/api/v1/platform/tenants/{uuid.uuid4()}/plan"
    assert platform_admin.put(missing, json={"plan": "paid"}).status_code == 404
    assert platform.put(path, json={"plan": "paid"}).status_code == 401
    # Tenant credentials are not platform credentials; tenant hosts have no platform API.
    assert HostClient(platform.client, platform.host, api_key=clinic.api_key).put(
        path, json={"plan": "paid"}).status_code in (401, 403)
    on_tenant_host = clinic.on_host().with_token(platform_admin.token)
    assert on_tenant_host.put(path, json={"plan": "paid"}).status_code == 404
    assert platform_admin.get(path).json["plan"] == "free"


def test_cli_set_plan(app, bootstrap):
    clinic = bootstrap()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["billing", "set-plan", clinic.slug, "paid"])
    assert result.exit_code == 0, result.output
    assert clinic.clincore().get("/api/v1/billing/plan").json["plan"] == "paid"
    shown = runner.invoke(args=["billing", "show", clinic.slug])
    assert "plan paid" in shown.output
    assert runner.invoke(args=["billing", "set-plan", clinic.slug, "gold"]).exit_code == 2
    missing = runner.invoke(args=["billing", "set-plan", "no-such-tenant", "paid"])
    assert missing.exit_code != 0 and "no tenant" in missing.output


def test_new_tenants_get_billing_enabled_on_the_free_plan(make_tenant, admin_connection):
    clinic = make_tenant()
    row = admin_connection.execute(
        "SELECT a.plan, m.enabled FROM billing_accounts a JOIN tenant_modules m "
        "ON m.tenant_id = a.tenant_id AND m.module_key = 'billing' WHERE a.tenant_id = %s",
        (clinic.id,)).fetchone()
    assert row == ("free", True)


def test_tenants_cannot_switch_billing_off(make_tenant):
    clinic = make_tenant(modules=["cases"])
    response = clinic.as_role("owner").patch(
        "/api/v1/tenant/settings", json={"modules": {"billing": {"enabled": False}}})
    assert response.status_code == 403


# --------------------------------------------------------------------------- the free tier


def test_free_tier_refuses_metered_actions_only(clinic_client, admin_connection):
    clinic = bootstrap_over_http(clinic_client)
    api = clinic.clincore()
    for index in range(CLINIC_FREE_TIER_LIMIT):
        assert api.post("/api/v1/cases", json={"title": f"c{index}"}).status_code == 201
    refused = api.post("/api/v1/cases", json={"title": "over"})
    assert refused.status_code == 402
    assert refused.json["status"] == "Payment Required"
    assert f"{CLINIC_FREE_TIER_LIMIT} of {CLINIC_FREE_TIER_LIMIT}" in refused.json["message"]
    count = admin_connection.execute("SELECT count(*) FROM cases WHERE tenant_id = %s",
                                     (clinic.id,)).fetchone()[0]
    assert count == CLINIC_FREE_TIER_LIMIT
    # Not metered: reads, updates, key management keep working (and counting).
    case_id = api.get("/cases").json[0]["id"]
    assert api.patch(f"/cases/{case_id}", json={"status": "closed"}).status_code == 200
    assert api.get("/admin/api-keys").status_code == 200
    plan = api.get("/api/v1/billing/plan").json
    assert plan["metered_actions_allowed"] is False
    assert plan["total_calls"] == CLINIC_FREE_TIER_LIMIT + 3


def test_free_tier_checks_credentials_and_module_first(clinic_client):
    clinic = bootstrap_over_http(clinic_client)
    api = clinic.clincore()
    for _index in range(CLINIC_FREE_TIER_LIMIT):
        api.get("/cases")
    assert api.anonymous().post("/cases", json={"title": "x"}).status_code in (401, 404)
    assert clinic.on_host().anonymous().post("/cases", json={"title": "x"}).status_code == 401
    assert api.post("/cases", json={"title": "x"}).status_code == 402


def test_paid_plan_lifts_the_cap(clinic_client, clinic_app):
    clinic = bootstrap_over_http(clinic_client)
    api = clinic.clincore()
    for _ in range(CLINIC_FREE_TIER_LIMIT):
        api.get("/cases")
    assert api.post("/cases", json={"title": "x"}).status_code == 402
    assert clinic_app.test_cli_runner().invoke(
        args=["billing", "set-plan", clinic.slug, "paid"]).exit_code == 0
    assert api.post("/cases", json={"title": "x"}).status_code == 201
    assert clinic_app.test_cli_runner().invoke(
        args=["billing", "set-plan", clinic.slug, "free"]).exit_code == 0
    assert api.post("/cases", json={"title": "y"}).status_code == 402


# --------------------------------------------------------------------------- hookspec


def test_metered_actions_come_from_plugins(app):
    with app.test_request_context():
        actions = metered_actions()
    assert {("POST", "cases.Cases"), ("POST", "cases_v1.Cases")} <= actions
    assert ("GET", "cases.Cases") not in actions


@pytest.mark.parametrize("declared, expected", [
    ([["POST cases.Cases"]], {("POST", "cases.Cases")}),
    ([["x.Create"], None], {("POST", "x.Create")}),
    ([["put  x.Thing"], ["DELETE y.Z"]], {("PUT", "x.Thing"), ("DELETE", "y.Z")}),
])
def test_parse_metered(declared, expected):
    assert services.parse_metered(declared) == expected


def test_counting_relaxes_the_commit_of_reads_only(app, bootstrap):
    clinic = bootstrap()
    count = text("SELECT billing_count_call(:t, 'GET /probe', 8)")
    settings = text("SELECT current_setting('synchronous_commit'), "
                    "current_setting('app.tenant_id', true)")
    with app.app_context(), db.engine.connect() as connection:
        # The test server runs with synchronous_commit off; make "on" this session's default.
        connection.execute(text("SET synchronous_commit TO on"))
        connection.commit()
        try:
            # A transaction that has written nothing: its commit need not wait for the disk.
            connection.execute(count, {"t": clinic.id})
            assert tuple(connection.execute(settings).one()) == ("off", str(clinic.id))
            connection.rollback()
            assert connection.execute(settings).one()[0] == "on"  # that transaction only
            connection.rollback()
            # A transaction that wrote (has an id): its commit stays synchronous.
            connection.execute(text("SELECT pg_current_xact_id()"))
            connection.execute(count, {"t": clinic.id})
            assert tuple(connection.execute(settings).one()) == ("on", str(clinic.id))
        finally:
            connection.rollback()
            connection.execute(text("RESET synchronous_commit"))
            connection.commit()
