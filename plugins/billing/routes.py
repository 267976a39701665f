"""Billing endpoints.

- ``admin_blp``: ClinCore's ``GET /admin/usage`` (admin-role API key), also under ``/api/v1``.
- ``tenant_blp``: ``/api/v1/billing/usage`` and ``/plan`` for owners, admins and admin keys.
- ``platform_blp``: ``GET/PUT /api/v1/platform/tenants/<id>/plan`` for platform admins; marked
  with ``platform_blueprint`` so that core guards it like its own.
"""

from __future__ import annotations

import uuid

from flask import current_app, g
from flask.views import MethodView

from core.sdk import Blueprint, db, get_tenant, platform_blueprint, tenant_context
from plugins.billing import services
from plugins.billing.schemas import PlanSchema, PlanUpdateSchema, UsageSchema

admin_blp = Blueprint("billing_admin", __name__,
                      description="ClinCore usage report (admin-role API keys)")
tenant_blp = Blueprint("billing", __name__, url_prefix="/api/v1/billing",
                       description="The current tenant's plan and usage")
platform_blp = platform_blueprint(
    Blueprint("billing_platform", __name__, url_prefix="/api/v1/platform/tenants",
              description="Tenants' billing plans (platform admins)"))


def plan_view(tenant_id: uuid.UUID) -> dict:
    limit = current_app.config["FREE_TIER_LIMIT"]
    account = services.get_account(tenant_id)
    plan = account.plan if account else "free"
    used = services.total_calls(tenant_id)
    return {"tenant_id": tenant_id, "plan": plan, "free_tier_limit": limit,
            "total_calls": used, "metered_actions_allowed": plan != "free" or used < limit,
            "updated_at": account.updated_at if account else None,
            "updated_by": account.updated_by if account else None}


@admin_blp.route("/admin/usage")
class AdminUsage(MethodView):
    @admin_blp.response(200, UsageSchema)
    @admin_blp.requires_roles("admin", kinds=("api_key",))
    def get(self):
        """Usage of the tenant's API: total, per endpoint, last 24 hours."""
        return services.usage(g.tenant.id)


@tenant_blp.route("/usage")
class TenantUsage(MethodView):
    @tenant_blp.response(200, UsageSchema)
    @tenant_blp.requires_roles("owner", "admin")
    def get(self):
        """Usage of the tenant's API: total, per endpoint, last 24 hours."""
        return services.usage(g.tenant.id)


@tenant_blp.route("/plan")
class TenantPlan(MethodView):
    @tenant_blp.response(200, PlanSchema)
    @tenant_blp.requires_roles("owner", "admin")
    def get(self):
        """The tenant's plan and where it stands against the free tier."""
        return plan_view(g.tenant.id)


@platform_blp.route("/<uuid:tenant_id>/plan")
class PlatformTenantPlan(MethodView):
    @platform_blp.response(200, PlanSchema)
    @platform_blp.alt_response(404, description="No such tenant")
    @platform_blp.requires_platform
    def get(self, tenant_id):
        """A tenant's plan and usage against the free tier."""
        get_tenant(tenant_id)
        with tenant_context(tenant_id):
            return plan_view(tenant_id)

    @platform_blp.arguments(PlanUpdateSchema)
    @platform_blp.response(200, PlanSchema)
    @platform_blp.alt_response(404, description="No such tenant")
    @platform_blp.requires_platform
    def put(self, data, tenant_id):
        """Put a tenant on the free or the paid plan."""
        get_tenant(tenant_id)
        with tenant_context(tenant_id):
            services.set_plan(tenant_id, data["plan"], actor=g.identity.actor)
            db.session.flush()
            return plan_view(tenant_id)
