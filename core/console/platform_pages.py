"""The platform console (platform hosts, ``/platform/…``): the tenants of the platform.

Platform admins sign in at ``/platform/login``; every page here needs that session.
"""

from __future__ import annotations

from flask import redirect, request
from sqlalchemy import func, or_, select

from core.console.pages import ConsoleBlueprint
from core.console.rendering import render_page
from core.extensions import db
from core.models import Tenant

blp = ConsoleBlueprint("platform_console", __name__, platform=True, url_prefix="/platform")
blp.nav("Tenants", "tenants", order=0)

PAGE_SIZE = 50


@blp.route("")
def root():
    return redirect("/platform/", code=308)


@blp.route("/")
@blp.platform_page
def tenants():
    search = request.args.get("q", "").strip()[:100]
    statement = select(Tenant).order_by(Tenant.slug)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(Tenant.slug.ilike(pattern, escape="\\"),
                                        Tenant.name.ilike(pattern, escape="\\")))
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100000))
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar()
    rows = db.session.execute(
        statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_page("console/platform_tenants.html", title="Tenants", tenants=rows,
                       search=search, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                       total=total)
