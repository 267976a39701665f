"""The platform console (platform hosts, ``/platform/…``): the tenants of the platform, with
each one's status and readiness, searchable like ``GET /api/v1/platform/tenants``.

Platform admins sign in at ``/platform/login``; every page here needs that session. A tenant's
own page, creating one and changing it are ``core/console/platform_tenant_pages.py``.
"""

from __future__ import annotations

from flask import redirect, request
from sqlalchemy import func, select

from core import modules as module_service
from core.console.pages import ConsoleBlueprint
from core.console.rendering import read_form, render_page
from core.extensions import db
from core.models import TENANT_STATUSES, Tenant
from core.platform.schemas import TenantQueryArgsSchema
from core.platform.services import tenants_query
from core.readiness import schema_problems
from core.schema_migrations import CORE_BRANCH

blp = ConsoleBlueprint("platform_console", __name__, platform=True, url_prefix="/platform")
blp.nav("Tenants", "tenants", order=0)

PAGE_SIZE = 50


def tenant_readiness(tenant: Tenant, problems: dict[str, str]) -> tuple[bool, str]:
    """(ready?, why not) for one tenant: its status, then the schema of core and of the
    modules it has enabled (``problems`` is ``core.readiness.schema_problems()``)."""
    if tenant.status != "active":
        reason = f": {tenant.status_reason}" if tenant.status_reason else ""
        return False, f"{tenant.status}{reason}"
    if CORE_BRANCH in problems:
        return False, problems[CORE_BRANCH]
    if problems:
        # Only read the tenant's toggles when some module is behind (rare): the list stays
        # one query in the normal case.
        behind = [problems[view.key] for view in module_service.tenant_modules(tenant.id)
                  if view.enabled and view.key in problems]
        if behind:
            return False, "; ".join(behind)
    return True, "ready"


@blp.route("")
def root():
    return redirect("/platform/", code=308)


@blp.route("/")
@blp.platform_page
def tenants():
    args = {key: value for key, value in request.args.items() if key in ("q", "status")}
    filters, errors = read_form(TenantQueryArgsSchema(), args)
    search, status = args.get("q", "").strip(), args.get("status", "")
    statement = tenants_query(**filters)
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100000))
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar()
    rows = db.session.execute(
        statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    problems = schema_problems()
    listed = [{"tenant": row, "readiness": tenant_readiness(row, problems)} for row in rows]
    # A filter the API would refuse (an unknown status): 422 with the error, all tenants.
    return render_page("console/platform_tenants.html", title="Tenants",
                       status=422 if errors else 200, tenants=listed, search=search,
                       status_filter=status, statuses=TENANT_STATUSES, page=page,
                       pages=max(1, -(-total // PAGE_SIZE)), total=total, errors=errors)
