"""API key endpoints (runbook 002 §3) on the tenant's host, or on a platform host where the
``X-API-Key`` names its tenant.

- ``blp`` (ClinCore's root paths; registered again under ``/api/v1``):
  ``POST /auth/api-keys/rotate`` for any key to replace itself, and ``/admin/api-keys...`` for
  admin-role keys (a ``user`` key gets 403).
- ``owner_blp`` (``/api/v1/api-keys``): the tenant owner manages keys with a user JWT.

A raw key appears only in the 201 answer that creates it.
"""

from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from core.auth import apikey_services as services
from core.blueprint import Blueprint
from core.extensions import db
from core.models import API_KEY_ROLES

blp = Blueprint("api_keys", __name__,
                description="ClinCore API keys: rotation by the key itself, management by "
                            "admin-role keys (also under /api/v1)")
owner_blp = Blueprint("api_keys_owner", __name__, url_prefix="/api/v1/api-keys",
                      description="API keys of the current tenant, managed by its owner")

SHOWN_ONCE = "Store this key now: it is shown only once and cannot be recovered."

# ClinCore: /admin/* needs an admin-role API key. Tenant users use the owner endpoints.
admin_key = blp.requires_roles("admin", kinds=("api_key",))
owner_only = owner_blp.requires_roles("owner", kinds=("user",))


class ApiKeySchema(Schema):
    """A key as listed: never its secret or hash."""

    id = fields.UUID(dump_only=True)
    prefix = fields.String(dump_only=True, metadata={
        "description": "First characters of the key, to recognise it"})
    label = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={
        "description": "active, expiring (grace period after a rotation), expired or revoked"})
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True, allow_none=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True, metadata={
        "description": "Refreshed at most once a minute"})
    expires_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class ApiKeyCreateSchema(Schema):
    label = fields.String(required=True, validate=[
        validate.Length(min=1, max=services.LABEL_MAX),
        validate.Regexp(r"\s*\S", error="must not be blank")])
    role = fields.String(load_default="user", validate=validate.OneOf(API_KEY_ROLES))


class IssuedKeySchema(ApiKeySchema):
    api_key = fields.String(dump_only=True, metadata={"description": SHOWN_ONCE})
    message = fields.String(dump_only=True)


class RotateSchema(Schema):
    grace_seconds = fields.Integer(load_default=0, validate=validate.Range(
        min=0, max=services.MAX_GRACE_SECONDS), metadata={
        "description": "How long the old key keeps working (0: it stops now)"})


class RotatedKeySchema(IssuedKeySchema):
    old_key_id = fields.UUID(dump_only=True)
    old_key_status = fields.String(dump_only=True)
    old_key_expires_at = fields.DateTime(dump_only=True, allow_none=True)


_LISTED = ("id", "prefix", "label", "role", "created_at", "created_by", "last_used_at",
           "expires_at", "revoked_at")


def _listed(key) -> dict:
    return {**{name: getattr(key, name) for name in _LISTED}, "status": services.key_status(key)}


def _issued(issued: services.IssuedKey) -> dict:
    return {**_listed(issued.key), "api_key": issued.raw, "message": SHOWN_ONCE}


def _rotated(issued: services.IssuedKey, old) -> dict:
    return {**_issued(issued), "old_key_id": old.id, "old_key_status": services.key_status(old),
            "old_key_expires_at": old.expires_at}


# --------------------------------------------------------------------------- management


def _register_management(bp: Blueprint, guard, keys_url: str, revoke_url: str,
                         endpoints: tuple[str, str]) -> None:
    """List, create and revoke keys: one definition, registered on ``bp`` under ``keys_url``
    and ``revoke_url`` behind ``guard`` (ClinCore's admin-role keys; the owner's JWT)."""

    class ApiKeys(MethodView):
        @bp.response(200, ApiKeySchema(many=True))
        @guard
        def get(self):
            """List the tenant's API keys (no secrets)."""
            return [_listed(key) for key in services.list_keys(g.tenant.id)]

        @bp.arguments(ApiKeyCreateSchema)
        @bp.response(201, IssuedKeySchema)
        @guard
        def post(self, data):
            """Create an API key; the key is shown once."""
            issued = services.create_key(g.tenant.id, label=data["label"], role=data["role"],
                                         created_by=g.identity.actor)
            db.session.flush()
            return _issued(issued)

    class RevokeApiKey(MethodView):
        @bp.response(200, ApiKeySchema)
        @bp.alt_response(404, description="No such key in this tenant")
        @guard
        def post(self, key_id):
            """Revoke an API key at once."""
            key = services.revoke_key(g.tenant.id, key_id)
            db.session.flush()
            return _listed(key)

    bp.route(keys_url, endpoint=endpoints[0])(ApiKeys)
    bp.route(revoke_url, endpoint=endpoints[1])(RevokeApiKey)


# --------------------------------------------------------------------------- ClinCore paths


@blp.route("/auth/api-keys/rotate")
class RotateOwnKey(MethodView):
    @blp.arguments(RotateSchema)
    @blp.response(201, RotatedKeySchema)
    @blp.requires_roles(kinds=("api_key",))
    def post(self, args):
        """Replace the calling API key; the new key is shown once."""
        issued, old = services.rotate_key(
            g.tenant.id, uuid.UUID(g.identity.subject_id),
            grace_seconds=args["grace_seconds"], created_by=g.identity.actor)
        db.session.flush()
        return _rotated(issued, old)


_register_management(blp, admin_key, "/admin/api-keys", "/admin/api-keys/revoke/<uuid:key_id>",
                     ("AdminApiKeys", "AdminRevokeApiKey"))


# --------------------------------------------------------------------------- owner JWT


_register_management(owner_blp, owner_only, "", "/<uuid:key_id>/revoke",
                     ("OwnerApiKeys", "OwnerRevokeApiKey"))


@owner_blp.route("/<uuid:key_id>/rotate")
class OwnerRotateApiKey(MethodView):
    @owner_blp.arguments(RotateSchema)
    @owner_blp.response(201, RotatedKeySchema)
    @owner_blp.alt_response(404, description="No such live key in this tenant")
    @owner_only
    def post(self, args, key_id):
        """Replace an API key; the new key is shown once."""
        issued, old = services.rotate_key(g.tenant.id, key_id,
                                          grace_seconds=args["grace_seconds"],
                                          created_by=g.identity.actor)
        db.session.flush()
        return _rotated(issued, old)
