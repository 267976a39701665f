"""The reports, cases and billing console pages through the Flask test client: what each
shows, who may see it (no session → login, wrong role → 403, module off → 403, another
tenant's case → 404), forms (422 with the field error, nothing written; no CSRF token → 403),
the free tier's 402 on opening a case, and the CSV download equal to the API's CSV."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.rls import tenant_context
from tests.fixtures.products import make_product, receive_stock


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --------------------------------------------------------------------------- reports


@pytest.fixture
def stock_tenant(make_tenant):
    """Catalog, stock and reports; two products received at 2.50 and 4.00."""
    tenant = make_tenant(modules=["catalog", "stock", "reports"])
    admin = tenant.as_role("admin")
    for sku, quantity, cost in (("CHART-A", "4", "2.50"), ("CHART-B", "2", "4.00")):
        product = make_product(admin, sku=f"{sku}-{uuid.uuid4().hex[:4]}", name=sku)
        receive_stock(admin, product["id"], quantity, unit_cost=cost)
    return tenant


def test_reports_list_shows_what_the_api_lists(stock_tenant, console_as):
    api = stock_tenant.as_role("owner").get("/api/v1/reports").json
    page = console_as(stock_tenant, "owner").get("/reports/")
    assert page.status_code == 200
    body = _text(page)
    for report in api:
        assert f'href="/reports/{report["name"]}"' in body
        assert report["title"] in body
    assert "Sales by day" not in body  # sales is not enabled
    assert 'href="/reports/"' in body  # in the navigation


def test_cashier_sees_no_stock_reports_and_gets_403_running_one(stock_tenant, console_as):
    cashier = console_as(stock_tenant, "cashier")
    assert "Stock on hand" not in _text(cashier.get("/reports/"))
    response = cashier.get("/reports/stock_valuation")
    assert response.status_code == 403
    assert "may not run report 'stock_valuation'" in _text(response)


def test_report_page_shows_form_table_chart_and_csv_link(stock_tenant, console_as):
    page = console_as(stock_tenant, "admin").get("/reports/stock_valuation")
    assert page.status_code == 200
    body = _text(page)
    assert '<label for="f-location_id">' in body and '<label for="f-include_zero">' in body
    assert "CHART-A" in body and "10.00" in body  # 4 x 2.50
    assert '<svg class="chart"' in body and body.count('class="bar"') == 2
    assert "value by sku" in body
    assert "style=" not in body  # the CSP forbids inline style
    assert 'href="?include_zero=false&amp;format=csv"' in page.get_data(as_text=True)


def test_report_without_a_measure_has_no_chart(stock_tenant, console_as):
    body = _text(console_as(stock_tenant, "admin").get("/reports/low_stock?threshold=10"))
    assert "CHART-B" in body
    assert '<svg class="chart"' not in body


def test_csv_download_is_the_apis_csv(stock_tenant, console_as):
    api = stock_tenant.as_role("admin").get("/api/v1/reports/stock_valuation?format=csv")
    page = console_as(stock_tenant, "admin").get(
        "/reports/stock_valuation?include_zero=false&format=csv")
    assert page.status_code == 200
    assert page.mimetype == "text/csv"
    assert page.headers["Content-Disposition"] == 'attachment; filename="stock_valuation.csv"'
    assert page.get_data() == api.get_data()
    assert page.get_data(as_text=True).count("\r\n") == 3  # header + 2 rows


@pytest.mark.parametrize(("query", "field", "fragment"), [
    ("location_id=nope", "location_id", "Not a valid UUID"),
    ("include_zero=maybe", "include_zero", "Not a valid boolean"),
])
def test_invalid_parameters_are_422_next_to_the_field(stock_tenant, console_as, query, field,
                                                       fragment):
    response = console_as(stock_tenant, "admin").get(f"/reports/stock_valuation?{query}")
    assert response.status_code == 422
    body = _text(response)
    assert re.search(rf'<span class="field-error" id="{field}-error">[^<]*{fragment}', body)
    assert '<table class="grid">' not in body


def test_date_range_form_and_its_errors(make_tenant, console_as):
    tenant = make_tenant(modules=["catalog", "stock", "sales", "reports"])
    console = console_as(tenant, "owner")
    page = console.get("/reports/sales_by_day")
    today = datetime.now(UTC).date()
    body = _text(page)
    assert page.status_code == 200
    assert 'type="date"' in body and f'value="{today.isoformat()}"' in body  # default filled
    late = console.get(f"/reports/sales_by_day?date_from={today}&date_to="
                       f"{today - timedelta(days=3)}")
    assert late.status_code == 422
    assert "must not be before date_from" in _text(late)
    unknown = console.get("/reports/sales_by_day?date_form=2026-01-01")
    assert unknown.status_code == 422  # a misspelt parameter is not silently ignored


def test_reports_pages_need_a_session_and_the_module(stock_tenant, make_tenant, app,
                                                      console_as):
    from core.testing.console import ConsoleClient

    anonymous = ConsoleClient(app, stock_tenant.host)
    response = anonymous.get("/reports/stock_valuation")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/reports/stock_valuation"
    without = make_tenant(modules=["catalog", "stock"])
    console = console_as(without, "owner")
    assert console.get("/reports/").status_code == 403
    assert 'href="/reports/"' not in _text(console.get("/"))
    assert console_as(stock_tenant, "owner").get("/reports/nope").status_code == 404


# --------------------------------------------------------------------------- cases


@pytest.fixture
def clinic(make_tenant):
    return make_tenant(modules=["cases"])


def _cases(app, tenant_id):
    from plugins.cases.models import Case

    with app.app_context(), tenant_context(tenant_id):
        return db.session.execute(select(Case).order_by(Case.created_at)).scalars().all()


def test_open_a_case_and_see_it_listed_and_in_detail(app, clinic, console_as):
    console = console_as(clinic, "admin")
    assert console.get("/console/cases/new").status_code == 200
    response = console.post("/console/cases/", {
        "title": "Knee <pain>", "description": "Left knee", "patient_ref": "MRN-1",
        "status": "open"}, csrf_from="/console/cases/new")
    assert response.status_code == 303
    (case,) = _cases(app, clinic.id)
    assert response.headers["Location"] == f"/console/cases/{case.id}"
    assert case.created_by and case.patient_ref == "MRN-1"
    detail = console.get(response.headers["Location"])
    assert detail.status_code == 200
    assert "Case 'Knee <pain>' opened." in _text(detail)
    assert "Knee &lt;pain&gt;" in detail.get_data(as_text=True)  # escaped
    listing = _text(console.get("/console/cases/"))
    assert "Knee <pain>" in listing and "MRN-1" in listing


def test_case_list_filters_and_pages(app, clinic, console_as):
    from plugins.cases import services

    with app.app_context(), tenant_context(clinic.id):
        for n in range(52):
            services.create_case(clinic.id, actor="test", title=f"Case {n:02d}",
                                 patient_ref="P-1" if n < 3 else None,
                                 status="closed" if n == 0 else "open")
        db.session.commit()
    console = console_as(clinic, "owner")
    first = _text(console.get("/console/cases/"))
    assert "52 cases" in first and "Page 1 of 2" in first and "Case 51" in first
    assert "Case 01" not in first
    second = _text(console.get("/console/cases/?page=2"))
    assert "Case 01" in second and "Case 51" not in second
    filtered = _text(console.get("/console/cases/?status=open&patient_ref=P-1"))
    assert "2 cases" in filtered and "Case 02" in filtered and "Case 00" not in filtered
    bad = console.get("/console/cases/?status=pending")
    assert bad.status_code == 422
    assert 'id="status-error"' in _text(bad)


def test_invalid_case_form_is_422_and_writes_nothing(app, clinic, console_as):
    console = console_as(clinic, "owner")
    response = console.post("/console/cases/", {"title": "   ", "patient_ref": "bad ref!"},
                            csrf_from="/console/cases/new")
    assert response.status_code == 422
    body = _text(response)
    assert 'id="title-error"' in body and "must not be blank" in body
    assert 'id="patient_ref-error"' in body
    assert _cases(app, clinic.id) == []


def test_case_create_without_csrf_is_refused(app, clinic, console_as):
    response = console_as(clinic, "owner").post("/console/cases/", {"title": "x"}, token="")
    assert response.status_code == 403
    assert _cases(app, clinic.id) == []


def test_cases_guards(app, clinic, make_tenant, console_as):
    from core.testing.console import ConsoleClient

    response = ConsoleClient(app, clinic.host).get("/console/cases/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/console/cases/"
    assert console_as(clinic, "cashier").get("/console/cases/").status_code == 403
    shop = make_tenant()
    assert console_as(shop, "owner").get("/console/cases/").status_code == 403
    other = make_tenant(modules=["cases"])
    console_as(other, "owner").post("/console/cases/", {"title": "Theirs"},
                                    csrf_from="/console/cases/new")
    (theirs,) = _cases(app, other.id)
    assert console_as(clinic, "owner").get(f"/console/cases/{theirs.id}").status_code == 404


def test_opening_a_case_over_the_free_tier_is_402(app, clinic, console_as, monkeypatch):
    console = console_as(clinic, "owner")
    token_page = "/console/cases/new"
    from plugins.billing import services as billing

    with app.app_context(), tenant_context(clinic.id):
        used = billing.total_calls(clinic.id)
    # Console page views are not API usage (not counted): the limit is what was used.
    monkeypatch.setitem(app.config, "FREE_TIER_LIMIT", used)
    response = console.post("/console/cases/", {"title": "One too many"}, csrf_from=token_page)
    assert response.status_code == 402
    body = _text(response)
    assert "the free tier is used up" in body and "Nothing was saved" in body
    assert "free tier exhausted" in body and 'href="/billing/"' in body
    assert _cases(app, clinic.id) == []
    usage = _text(console.get("/billing/"))
    assert "The free tier is used up" in usage


def test_a_paid_tenant_is_not_capped(app, clinic, console_as, monkeypatch):
    from plugins.billing import services as billing

    with app.app_context(), tenant_context(clinic.id):
        billing.set_plan(clinic.id, "paid", actor="test")
        db.session.commit()
    monkeypatch.setitem(app.config, "FREE_TIER_LIMIT", 0)
    response = console_as(clinic, "owner").post("/console/cases/", {"title": "Fine"},
                                                csrf_from="/console/cases/new")
    assert response.status_code == 303


# --------------------------------------------------------------------------- billing


def test_usage_page_and_tile(app, clinic, console_as):
    clinic.as_role("owner").get("/api/v1/cases")  # one counted API call
    console = console_as(clinic, "owner")
    page = console.get("/billing/")
    assert page.status_code == 200
    body = _text(page)
    assert "Plan: free" in body
    assert f"of {app.config['FREE_TIER_LIMIT']}" in body
    assert "GET /api/v1/cases" in body
    dashboard = _text(console.get("/"))
    assert "Usage" in dashboard and "Free calls used" in dashboard
    assert 'href="/billing/"' in dashboard


def test_usage_page_guards(app, clinic, console_as):
    from core import modules as module_service
    from core.testing.console import ConsoleClient

    assert ConsoleClient(app, clinic.host).get("/billing/").status_code == 303
    cashier = console_as(clinic, "cashier")
    assert cashier.get("/billing/").status_code == 403
    assert "Free calls used" not in _text(cashier.get("/"))
    with app.app_context(), tenant_context(clinic.id):
        # Only the platform switches billing (it is not tenant-toggleable).
        assert module_service.disable_module(clinic.id, "billing", by_platform=True)
        db.session.commit()
    owner = console_as(clinic, "owner")
    assert owner.get("/billing/").status_code == 403
    assert 'href="/billing/"' not in _text(owner.get("/"))


def test_platform_sees_and_sets_a_tenants_plan(app, clinic, platform_console):
    path = f"/platform/tenants/{clinic.id}/plan"
    page = platform_console.get(path)
    assert page.status_code == 200
    body = _text(page)
    assert clinic.slug in body and "Plan: free" in body
    response = platform_console.post(path, {"plan": "paid"})
    assert response.status_code == 303 and response.headers["Location"] == path
    after = _text(platform_console.get(path))
    assert "Plan: paid" in after and "is on the paid plan" in after
    api = clinic.as_role("owner").get("/api/v1/billing/plan").json
    assert api["plan"] == "paid"


def test_platform_plan_form_errors_and_guards(app, clinic, platform_console, console_as):
    from core.testing.app import PLATFORM_HOST
    from core.testing.console import ConsoleClient

    path = f"/platform/tenants/{clinic.id}/plan"
    bad = platform_console.post(path, {"plan": "gold"})
    assert bad.status_code == 422
    assert 'id="plan-error"' in _text(bad)
    assert platform_console.post(path, {"plan": "paid"}, token="").status_code == 403
    assert clinic.as_role("owner").get("/api/v1/billing/plan").json["plan"] == "free"
    assert platform_console.get(f"/platform/tenants/{uuid.uuid4()}/plan").status_code == 404
    anonymous = ConsoleClient(app, PLATFORM_HOST).get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["Location"].startswith("/platform/login?next=")
    # A tenant's console has no platform pages.
    assert console_as(clinic, "owner").get(path).status_code in (403, 404)


def test_a_report_with_a_required_parameter_opens_on_its_empty_form(make_tenant, console_as):
    tenant = make_tenant(modules=["pos", "stock", "reports"])
    owner, cashier = tenant.as_role("owner"), tenant.as_role("cashier")
    register = owner.post("/api/v1/pos/registers", json={"code": "R1", "name": "Till"}).json
    shift = cashier.post(f"/api/v1/pos/registers/{register['id']}/shifts",
                         json={"opening_float": "100.00"}).json
    console = console_as(tenant, "cashier")
    assert "Shift X/Z report" in _text(console.get("/reports/"))
    first = console.get("/reports/pos_shift_report")
    assert first.status_code == 200
    assert 'id="f-shift_id"' in _text(first) and '<table class="grid">' not in _text(first)
    blank = console.get("/reports/pos_shift_report?shift_id=")
    assert blank.status_code == 422
    assert 'id="shift_id-error"' in _text(blank)
    ran = console.get(f"/reports/pos_shift_report?shift_id={shift['id']}")
    assert ran.status_code == 200 and "Download CSV" in _text(ran)


def test_console_page_views_are_not_api_usage_but_metered_actions_are(app, clinic, console_as):
    from plugins.billing import services as billing

    def used():
        with app.app_context(), tenant_context(clinic.id):
            return billing.total_calls(clinic.id)

    console = console_as(clinic, "owner")
    before = used()
    for page in ("/", "/console/cases/", "/billing/", "/console/cases/new"):
        assert console.get(page).status_code == 200
    assert used() == before  # browsing counts nothing
    opened = console.post("/console/cases/", {"title": "Counted"},
                          csrf_from="/console/cases/new")
    assert opened.status_code == 303
    assert used() == before + 1  # the metered action counts, from the console too
