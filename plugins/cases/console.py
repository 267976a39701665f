"""The cases console pages (ClinCore tenants): the list of cases with its filters (status,
patient reference: the API's), opening a case, and a case's detail.

Owners and admins only, like the API (cashiers are a POS role). The console lives under
``/console/cases`` because ``/cases`` is ClinCore's API on the same host. Opening a case here
is metered like ``POST /cases``: the plugin declares ``POST cases_console.create`` in
``tenantry_billing_metered_endpoints``, so a free tenant over its limit gets the 402 page
before anything is written.
"""

from __future__ import annotations

import uuid

from flask import g, request, url_for
from sqlalchemy import func, select

from core.sdk import (
    ConsoleBlueprint,
    PaymentRequired,
    db,
    read_form,
    redirect_with_notice,
    render_page,
)
from plugins.cases import services
from plugins.cases.models import CASE_STATUSES
from plugins.cases.schemas import CaseQueryArgsSchema, CaseSchema

blp = ConsoleBlueprint("cases_console", __name__, url_prefix="/console/cases")
ROLES = ("owner", "admin")
PAGE_SIZE = 50
blp.nav("Cases", "index", roles=ROLES, order=30)

STATUS_OPTIONS = [("", "Any status"), *((status, status.capitalize())
                                         for status in CASE_STATUSES)]


@blp.route("/")
@blp.page(roles=ROLES)
def index():
    filters, errors = read_form(CaseQueryArgsSchema(), request.args)
    statement = services.case_query(g.tenant.id, **filters)
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))
    total = db.session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())).scalar()
    cases = db.session.execute(
        statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_page("cases/index.html", title="Cases", cases=cases, total=total, page=page,
                       pages=max(1, -(-total // PAGE_SIZE)), statuses=STATUS_OPTIONS,
                       search={key: request.args.get(key, "")
                               for key in ("status", "patient_ref")},
                       args={key: value for key, value in filters.items() if value},
                       errors=errors, status=422 if errors else 200)


def _form(errors=None, values=None, status=200):
    return render_page("cases/new.html", title="Open a case", errors=errors or {},
                       values=values or {}, statuses=STATUS_OPTIONS[1:], status=status)


@blp.route("/new")
@blp.page(roles=ROLES)
def new():
    return _form()


@blp.route("/", methods=["POST"])
@blp.page(roles=ROLES)
def create():
    data, errors = read_form(CaseSchema())
    if errors:
        return _form(errors, request.form, 422)
    case = services.create_case(g.tenant.id, actor=g.identity.actor, **data)
    # No commit: the request pipeline commits (and counts the metered call) once.
    return redirect_with_notice(url_for("cases_console.detail", case_id=case.id),
                                f"Case '{case.title}' opened.")


@blp.errorhandler(PaymentRequired)
def free_tier_used_up(exc: PaymentRequired):
    """Billing refused the metered create before the view ran: say what happened and what
    to do, rather than the generic error page."""
    return render_page("cases/free_tier.html", title="Free tier used up", status=402,
                       reason=exc.message)


@blp.route("/<uuid:case_id>")
@blp.page(roles=ROLES)
def detail(case_id: uuid.UUID):
    case = services.get_case(g.tenant.id, case_id)
    return render_page("cases/detail.html", title=case.title, case=case)
