"""``/api/v1/tenant/settings``: a tenant owner's module and feature toggles (runbook 000,
"Platform admin": missing overrides are treated as disabled)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields

from core import modules as module_service
from core.blueprint import Blueprint
from core.extensions import db

blp = Blueprint("tenant_settings", __name__, url_prefix="/api/v1/tenant",
                description="Module and feature toggles of the current tenant (owner only)")


class ModuleSettingSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    version = fields.String()
    requires = fields.List(fields.String())
    tenant_toggleable = fields.Boolean()
    enabled = fields.Boolean(required=True)
    features = fields.Dict(keys=fields.String())


class SettingsSchema(Schema):
    modules = fields.List(fields.Nested(ModuleSettingSchema), required=True)
    changes = fields.List(fields.String(), metadata={
        "description": "What the last PATCH did, including requirements enabled with it"})


class ModuleChangeSchema(Schema):
    enabled = fields.Boolean()
    features = fields.Dict(keys=fields.String())


class SettingsUpdateSchema(Schema):
    modules = fields.Dict(keys=fields.String(), values=fields.Nested(ModuleChangeSchema),
                          required=True)


def _settings(changes=None):
    return {"modules": module_service.tenant_modules(g.tenant.id), "changes": changes or []}


@blp.route("/settings")
class TenantSettings(MethodView):
    @blp.response(200, SettingsSchema)
    @blp.requires_roles("owner", kinds=("user",))
    def get(self):
        """List every installed module with its enabled flag and features."""
        return _settings()

    @blp.arguments(SettingsUpdateSchema)
    @blp.response(200, SettingsSchema)
    @blp.alt_response(409, description="A requirement blocks the change, or the module's "
                                       "migrations are not applied")
    @blp.alt_response(422, description="Unknown module or feature, or a wrong feature type")
    @blp.requires_roles("owner", kinds=("user",))
    def patch(self, update):
        """Enable or disable modules and set feature values; requirements follow."""
        changes = module_service.update_tenant_settings(g.tenant.id, update["modules"])
        db.session.flush()
        return _settings(changes)
