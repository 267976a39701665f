"""Marshmallow schemas of the platform API: tenants, their modules, modules, templates, and a
platform admin's own password."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, post_load, validate

from core.auth.passwords import MAX_LENGTH, MIN_LENGTH
from core.models import TENANT_STATUSES
from core.tenant_lifecycle import SLUG

_KEY = validate.Regexp(r"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$",
                       error="lower-case letters, digits, '-' and '_', 1-63 characters")


MAX_MODULES = 100  # far more than any deployment installs; a bound on the parser's work
_MODULE_SELECTION_DOC = {"oneOf": [
    {"type": "array", "items": {"type": "string"}, "maxItems": MAX_MODULES},
    {"type": "object", "additionalProperties": {"type": "object"},
     "maxProperties": MAX_MODULES},
]}


class ModuleSelection(fields.Field):
    """Modules to enable: ``{"catalog": {"feature": value}}`` or simply ``["catalog"]``."""

    def __init__(self, **kwargs) -> None:
        kwargs["metadata"] = {**_MODULE_SELECTION_DOC, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> dict[str, dict[str, Any]]:
        if isinstance(value, list | dict) and len(value) > MAX_MODULES:
            raise ValidationError(f"at most {MAX_MODULES} modules")
        if isinstance(value, list):
            if not all(isinstance(key, str) for key in value):
                raise ValidationError("must be a list of module keys or an object")
            return {key: {} for key in value}
        if isinstance(value, dict):
            errors = {key: ["features must be an object"] for key, features in value.items()
                      if features is not None and not isinstance(features, dict)}
            if errors:
                raise ValidationError(errors)
            return {str(key): dict(features or {}) for key, features in value.items()}
        raise ValidationError("must be a list of module keys or an object")

    def _serialize(self, value: Any, attr, obj, **kwargs):
        return value


# --------------------------------------------------------------------------- tenants


class OwnerSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=MIN_LENGTH, max=MAX_LENGTH))


class TenantSchema(Schema):
    id = fields.UUID(dump_only=True)
    slug = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    status_reason = fields.String(dump_only=True, allow_none=True)
    host = fields.Method("_host", dump_only=True, metadata={
        "description": "The host name the tenant's APIs answer on"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    def _host(self, tenant) -> str:
        return f"{tenant.slug}.{current_app.config['ROOT_DOMAIN']}"


class TenantCreateSchema(Schema):
    slug = fields.String(required=True, validate=validate.Length(min=1, max=63),
                         metadata={"pattern": SLUG.pattern})  # checked by tenant_lifecycle
    name = fields.String(validate=validate.Length(min=1, max=200),
                         metadata={"description": "Display name (default: the slug)"})
    owner = fields.Nested(OwnerSchema, required=True, metadata={
        "description": "The tenant's first owner user"})
    template = fields.String(validate=validate.Length(min=1, max=63),
                             metadata={"description": "Key of a template to apply"})
    modules = ModuleSelection(load_default=dict, metadata={
        "description": "Modules to enable: a list of keys or {key: {feature: value}}"})

    @post_load
    def _normalise(self, data, **kwargs):
        # Host names are case-insensitive; so are the slugs that name them.
        data["slug"] = data["slug"].strip().lower()
        data.setdefault("name", data["slug"])
        return data


class TenantCreatedSchema(TenantSchema):
    owner = fields.Dict(dump_only=True, metadata={"description": "id and email of the owner"})
    modules = fields.List(fields.String(), dump_only=True,
                          metadata={"description": "Modules enabled for the tenant"})


class TenantQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(TENANT_STATUSES))
    q = fields.String(validate=validate.Length(min=1, max=63),
                      metadata={"description": "Part of the slug or name"})


class TenantUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    status = fields.String(validate=validate.OneOf(TENANT_STATUSES))
    status_reason = fields.String(allow_none=True, validate=validate.Length(max=2000),
                                  metadata={"description": "Shown in 503 answers while the "
                                                           "tenant is provisioning or failed"})


# --------------------------------------------------------------------------- modules


class TenantModuleSchema(Schema):
    key = fields.String()
    name = fields.String()
    description = fields.String()
    version = fields.String()
    requires = fields.List(fields.String())
    tenant_toggleable = fields.Boolean()
    enabled = fields.Boolean()
    features = fields.Dict(keys=fields.String())


class TenantModulesSchema(Schema):
    tenant_id = fields.UUID()
    changes = fields.List(fields.String(), metadata={
        "description": "What the request changed, including requirements enabled with it"})
    modules = fields.List(fields.Nested(TenantModuleSchema))


class TenantModuleChangeSchema(Schema):
    features = fields.Dict(keys=fields.String(), load_default=dict)


class ModuleSchema(Schema):
    key = fields.String()
    name = fields.String()
    description = fields.String()
    version = fields.String(allow_none=True)
    requires = fields.List(fields.String())
    tenant_toggleable = fields.Boolean()
    features = fields.Dict(keys=fields.String(), metadata={"description": "Default values"})
    available = fields.Boolean(metadata={"description": "A plugin provides it"})
    installed = fields.Boolean(metadata={"description": "Its migrations are applied"})
    installed_version = fields.String(allow_none=True)


class ModuleCreateSchema(Schema):
    key = fields.String(required=True, validate=_KEY)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class ModuleUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))


# --------------------------------------------------------------------------- templates


class TemplateSchema(Schema):
    id = fields.UUID(dump_only=True)
    key = fields.String(required=True, validate=_KEY)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    modules = ModuleSelection(load_default=dict, metadata={
        "description": "{module key: {feature: value}} (or a list of keys)"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class TemplateUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    modules = ModuleSelection()


class TemplateAppliedSchema(TenantModulesSchema):
    template = fields.String()


# --------------------------------------------------------------------------- platform admins


class PlatformPasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                     validate=validate.Length(min=1, max=MAX_LENGTH))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=MIN_LENGTH, max=MAX_LENGTH),
                                 metadata={"description": f"{MIN_LENGTH} to {MAX_LENGTH} "
                                                          "characters, not the current one"})
