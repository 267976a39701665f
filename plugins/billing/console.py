"""Billing's page in the platform console: one tenant's plan and API usage, and switching it
between the free and the paid plan (the rules of ``PUT /api/v1/platform/tenants/<id>/plan``:
its schema and service).

A platform ``ConsoleBlueprint``: core guards it like its own platform pages (platform admins
only, platform hosts only), and ``tenant_panel`` puts the link on the tenant's page, so the
platform console shows plans without core knowing that billing exists.
"""

from __future__ import annotations

import uuid

from flask import g, url_for

from core.sdk import (
    ConsoleBlueprint,
    get_tenant,
    read_form,
    redirect_with_notice,
    render_page,
    tenant_context,
)
from plugins.billing import services
from plugins.billing.models import PLANS
from plugins.billing.routes import plan_view
from plugins.billing.schemas import PlanUpdateSchema

blp = ConsoleBlueprint("billing_platform_console", __name__, platform=True,
                       url_prefix="/platform/tenants")
blp.tenant_panel("Billing plan", "plan", "the plan, the free tier and the API usage")


def _page(tenant_id: uuid.UUID, status: int = 200, errors=None, message=None):
    tenant = get_tenant(tenant_id)
    with tenant_context(tenant_id):
        plan, usage = plan_view(tenant_id), services.usage(tenant_id)
    return render_page("billing/platform_plan.html", title=f"Plan of {tenant.slug}",
                       status=status, errors=errors or {}, message=message, tenant_row=tenant,
                       plan=plan, usage=usage, plans=PLANS)


@blp.route("/<uuid:tenant_id>/plan")
@blp.platform_page
def plan(tenant_id: uuid.UUID):
    return _page(tenant_id)


@blp.route("/<uuid:tenant_id>/plan", methods=["POST"])
@blp.platform_page
def change_plan(tenant_id: uuid.UUID):
    get_tenant(tenant_id)
    data, errors = read_form(PlanUpdateSchema())
    if errors:
        return _page(tenant_id, 422, errors, "Choose a plan.")
    with tenant_context(tenant_id):
        services.set_plan(tenant_id, data["plan"], actor=g.identity.actor)
    return redirect_with_notice(url_for("billing_platform_console.plan", tenant_id=tenant_id),
                                f"The plan is now {data['plan']}.")
