"""Platform routes for tenants: create, list, read, update, (de)activate, their modules and
templates applied to them."""

from __future__ import annotations

from flask.views import MethodView

from core import modules as module_service
from core.audit import record_platform_audit
from core.extensions import db
from core.pagination import SQLPage
from core.platform import services
from core.platform.api_root import blp
from core.platform.schemas import (
    TemplateAppliedSchema,
    TenantCreatedSchema,
    TenantCreateSchema,
    TenantModuleChangeSchema,
    TenantModulesSchema,
    TenantQueryArgsSchema,
    TenantSchema,
    TenantUpdateSchema,
)
from core.tenant_lifecycle import get_tenant, set_status


def _modules(tenant_id, changes):
    return {"tenant_id": tenant_id, "changes": changes,
            "modules": module_service.tenant_modules(tenant_id)}


@blp.route("/tenants")
class Tenants(MethodView):
    @blp.arguments(TenantQueryArgsSchema, location="query")
    @blp.response(200, TenantSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_platform
    def get(self, args):
        """List tenants, filtered by status or by a part of their slug or name."""
        return services.tenants_query(**args)

    @blp.arguments(TenantCreateSchema)
    @blp.response(201, TenantCreatedSchema)
    @blp.alt_response(409, description="A tenant with this slug exists, or a module's "
                                       "migrations are not applied")
    @blp.requires_platform
    def post(self, data):
        """Create a tenant with its first owner, optionally a template and modules."""
        created = services.create_tenant(**data)
        db.session.flush()
        return created


@blp.route("/tenants/<uuid:tenant_id>")
@blp.etag
class TenantById(MethodView):
    @blp.response(200, TenantSchema)
    @blp.alt_response(404, description="No such tenant")
    @blp.requires_platform
    def get(self, tenant_id):
        """Read one tenant."""
        return get_tenant(tenant_id)

    @blp.arguments(TenantUpdateSchema)
    @blp.response(200, TenantSchema)
    @blp.alt_response(404, description="No such tenant")
    @blp.requires_platform
    def patch(self, data, tenant_id):
        """Rename a tenant or change its status (and the reason shown while not ready)."""
        blp.check_etag(get_tenant(tenant_id), TenantSchema)
        tenant = services.update_tenant(
            tenant_id, name=data.get("name"), status=data.get("status"),
            status_reason=data.get("status_reason"), reason_given="status_reason" in data)
        db.session.flush()
        return tenant


def _register_status_change(action: str, status: str, endpoint: str, summary: str) -> None:
    """``POST /tenants/<id>/<action>``: set the tenant's status (one definition for both)."""

    class TenantStatusChange(MethodView):
        @blp.response(200, TenantSchema)
        @blp.alt_response(404, description="No such tenant")
        @blp.requires_platform
        def post(self, tenant_id):
            before = get_tenant(tenant_id).status
            tenant = set_status(tenant_id, status)
            db.session.flush()
            if before != status:
                record_platform_audit(f"tenant.{action}d", target_type="tenant",
                                      target_id=tenant_id, tenant_id=tenant_id,
                                      before={"status": before}, after={"status": status})
            return tenant

    TenantStatusChange.post.__doc__ = summary  # the operation's summary in the OpenAPI document
    blp.route(f"/tenants/<uuid:tenant_id>/{action}", endpoint=endpoint)(TenantStatusChange)


_register_status_change("activate", "active", "TenantActivation",
                        "Activate a tenant: its users and keys are let in again.")
_register_status_change("deactivate", "inactive", "TenantDeactivation",
                        "Deactivate a tenant: every request on it answers 403; its data is kept.")


@blp.route("/tenants/<uuid:tenant_id>/modules")
class TenantModules(MethodView):
    @blp.response(200, TenantModulesSchema)
    @blp.alt_response(404, description="No such tenant")
    @blp.requires_platform
    def get(self, tenant_id):
        """List the installed modules with this tenant's toggles and feature values."""
        get_tenant(tenant_id)
        return _modules(tenant_id, [])


@blp.route("/tenants/<uuid:tenant_id>/modules/<string:key>")
class TenantModuleToggle(MethodView):
    @blp.arguments(TenantModuleChangeSchema)
    @blp.response(200, TenantModulesSchema)
    @blp.alt_response(404, description="No such tenant or module")
    @blp.alt_response(409, description="The module's migrations are not applied")
    @blp.requires_platform
    def put(self, data, tenant_id, key):
        """Enable a module (any module, also platform-managed ones) and what it requires."""
        changes = services.enable_for_tenant(tenant_id, key, data["features"])
        db.session.flush()
        return _modules(tenant_id, changes)

    @blp.response(200, TenantModulesSchema)
    @blp.alt_response(404, description="No such tenant or module")
    @blp.alt_response(409, description="An enabled module requires it")
    @blp.requires_platform
    def delete(self, tenant_id, key):
        """Disable a module for a tenant; its data is kept."""
        changes = services.disable_for_tenant(tenant_id, key)
        db.session.flush()
        return _modules(tenant_id, changes)


@blp.route("/tenants/<uuid:tenant_id>/apply-template/<string:key>")
class TenantTemplateApplication(MethodView):
    @blp.response(200, TemplateAppliedSchema)
    @blp.alt_response(404, description="No such tenant or template")
    @blp.alt_response(409, description="A module's migrations are not applied")
    @blp.requires_platform
    def post(self, tenant_id, key):
        """Apply a template: enable its modules (with requirements) and feature values.

        Idempotent: a second application changes nothing.
        """
        changes = services.apply_template(tenant_id, key)
        db.session.flush()
        return {**_modules(tenant_id, changes), "template": key}
