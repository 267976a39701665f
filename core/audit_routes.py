"""``GET /api/v1/tenant/audit`` (the tenant's owners) and ``GET /api/v1/platform/audit``
(platform admins): the audit log, newest first, paginated, filtered by action (exact, or a
prefix ending in ``.``: ``user.``), actor, target and time (core/audit.py)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Select, select

from core.blueprint import Blueprint
from core.models import AuditEvent, PlatformAuditEvent
from core.pagination import SQLPage
from core.platform.api_root import blp as platform_blp

blp = Blueprint("tenant_audit", __name__, url_prefix="/api/v1/tenant",
                description="The tenant's audit log (owner only)")


class AuditQuerySchema(Schema):
    action = fields.String(validate=validate.Length(min=1, max=60), metadata={
        "description": "An action (user.updated), or a prefix ending in a dot (user.)"})
    actor = fields.String(validate=validate.Length(min=1, max=100),
                          metadata={"description": "e.g. user:<id>, api_key:<id>, cli"})
    target_type = fields.String(validate=validate.Length(min=1, max=40))
    target_id = fields.String(validate=validate.Length(min=1, max=100))
    since = fields.AwareDateTime(metadata={"description": "From this time (with a zone)"})
    until = fields.AwareDateTime(metadata={"description": "Before this time (with a zone)"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise ValidationError("must be after since", "until")


class PlatformAuditQuerySchema(AuditQuerySchema):
    tenant_id = fields.UUID(metadata={"description": "Actions on this tenant"})


class AuditEventSchema(Schema):
    id = fields.UUID()
    occurred_at = fields.DateTime()
    actor = fields.String()
    client_address = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    action = fields.String()
    target_type = fields.String()
    target_id = fields.String(allow_none=True)
    changes = fields.Dict(allow_none=True, metadata={
        "description": "before and after of what changed; secrets are never recorded"})


class PlatformAuditEventSchema(AuditEventSchema):
    tenant_id = fields.UUID(allow_none=True, attribute="about_tenant_id",
                            metadata={"description": "The tenant acted on, if any"})


def _filtered(model, args: dict) -> Select:
    statement = select(model)
    action = args.get("action")
    if action:
        statement = statement.where(model.action.startswith(action, autoescape=True)
                                    if action.endswith(".") else model.action == action)
    for name in ("actor", "target_type", "target_id"):
        if name in args:
            statement = statement.where(getattr(model, name) == args[name])
    if "tenant_id" in args:  # platform events: the tenant acted on
        statement = statement.where(model.about_tenant_id == args["tenant_id"])
    if "since" in args:
        statement = statement.where(model.occurred_at >= args["since"])
    if "until" in args:
        statement = statement.where(model.occurred_at < args["until"])
    return statement.order_by(model.occurred_at.desc(), model.id)


@blp.route("/audit")
class TenantAudit(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles("owner", kinds=("user",))
    def get(self, args):
        """The tenant's audit log, newest first: who changed settings, people, keys, prices
        and stock, when and from where."""
        return _filtered(AuditEvent, args).where(AuditEvent.tenant_id == g.tenant.id)


@platform_blp.route("/audit")
class PlatformAudit(MethodView):
    @platform_blp.arguments(PlatformAuditQuerySchema, location="query")
    @platform_blp.response(200, PlatformAuditEventSchema(many=True))
    @platform_blp.paginate(SQLPage)
    @platform_blp.requires_platform
    def get(self, args):
        """The platform's audit log, newest first: tenants, the module registry, templates."""
        return _filtered(PlatformAuditEvent, args)
