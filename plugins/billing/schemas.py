"""Billing schemas: usage summary, plan, plan change."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugins.billing.models import PLANS


class UsageSchema(Schema):
    """ClinCore's ``GET /admin/usage`` answer."""

    total_calls = fields.Integer(required=True)
    calls_by_endpoint = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                    required=True, metadata={
                                        "description": "Calls per 'METHOD /url/rule'"})
    last_24h_count = fields.Integer(required=True, metadata={
        "description": "Calls in the hours that started in the last 24 hours"})


class PlanSchema(Schema):
    tenant_id = fields.UUID(required=True)
    plan = fields.String(required=True)
    free_tier_limit = fields.Integer(required=True)
    total_calls = fields.Integer(required=True)
    metered_actions_allowed = fields.Boolean(required=True, metadata={
        "description": "False while a free tenant is over its limit (metered actions: 402)"})
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


class PlanUpdateSchema(Schema):
    plan = fields.String(required=True, validate=validate.OneOf(PLANS))
