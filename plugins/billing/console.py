"""The billing console pages.

- Tenant console (owners and admins, guarded by the billing module key like its API): "Usage
  and plan" at ``/billing`` (plan, calls used against ``FREE_TIER_LIMIT``, usage by endpoint)
  and the dashboard tile "Usage".
- Platform console (platform admins): ``/platform/tenants/<tenant_id>/plan`` shows a tenant's
  plan and usage and puts it on the free or the paid plan (the same service and schema as
  ``PUT /api/v1/platform/tenants/<id>/plan``).

Views flush, never commit: the request pipeline commits once.
"""

from __future__ import annotations

import uuid

from flask import current_app, g, url_for

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

ROLES = ("owner", "admin")

blp = ConsoleBlueprint("billing_console", __name__, url_prefix="/billing")
blp.nav("Usage and plan", "usage", roles=ROLES, order=80)

platform_blp = ConsoleBlueprint("billing_platform_console", __name__, platform=True,
                                url_prefix="/platform/tenants")
# A link on the platform's tenant page: core's page knows nothing of billing.
platform_blp.tenant_panel("Billing plan", "tenant_plan", "the plan, the free tier and the usage")


def _standing(tenant_id: uuid.UUID) -> dict:
    """The plan view plus what the page shows of it (calls left, a percentage)."""
    plan = plan_view(tenant_id)
    limit, used = plan["free_tier_limit"], plan["total_calls"]
    return {**plan, "left": max(limit - used, 0),
            "percent": 100 if limit == 0 else min(100, used * 100 // limit)}


@blp.dashboard_tile("Usage", roles=ROLES)
def usage_tile():
    plan = plan_view(g.tenant.id)
    lines = [("Plan", plan["plan"])]
    if plan["plan"] == "free":
        lines.append(("Free calls used", f"{plan['total_calls']} of {plan['free_tier_limit']}"))
    else:
        lines.append(("Calls so far", str(plan["total_calls"])))
    return lines


@blp.route("/")
@blp.page(roles=ROLES)
def usage():
    return render_page("billing/usage.html", title="Usage and plan",
                       plan=_standing(g.tenant.id), usage=services.usage(g.tenant.id))


def _plan_page(tenant_id: uuid.UUID, errors=None, status=200):
    tenant = get_tenant(tenant_id)  # 404 page for an unknown tenant
    with tenant_context(tenant_id):
        plan, usage = _standing(tenant_id), services.usage(tenant_id)
    return render_page("billing/platform_plan.html", title=f"Plan of {tenant.name}",
                       subject=tenant, plan=plan, usage=usage, plans=PLANS,
                       errors=errors or {}, status=status,
                       limit=current_app.config["FREE_TIER_LIMIT"])


@platform_blp.route("/<uuid:tenant_id>/plan")
@platform_blp.platform_page
def tenant_plan(tenant_id: uuid.UUID):
    return _plan_page(tenant_id)


@platform_blp.route("/<uuid:tenant_id>/plan", methods=["POST"])
@platform_blp.platform_page
def set_tenant_plan(tenant_id: uuid.UUID):
    tenant = get_tenant(tenant_id)
    data, errors = read_form(PlanUpdateSchema())
    if errors:
        return _plan_page(tenant_id, errors, 422)
    with tenant_context(tenant_id):
        services.set_plan(tenant_id, data["plan"], actor=g.identity.actor)
    return redirect_with_notice(url_for("billing_platform_console.tenant_plan",
                                        tenant_id=tenant_id),
                                f"{tenant.name} is on the {data['plan']} plan.")
