"""``/api/v1/platform/tenants/<id>/erasure``: a platform admin requests, reads or withdraws the
erasure of an inactive tenant; ``tenantry tenants erase --scheduled`` carries it out once the
grace period has passed (core/erasure_requests.py says why the API does not erase itself)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields

from core import erasure_requests
from core.platform.api_root import blp


class ErasureRequestSchema(Schema):
    tenant_id = fields.UUID(attribute="id")
    requested_by = fields.String()
    requested_at = fields.DateTime()
    erase_after = fields.DateTime(metadata={
        "description": "From then on, the operator's scheduled job erases the tenant if it is "
                       "still inactive (TENANT_ERASURE_GRACE_DAYS after its last change)"})


@blp.route("/tenants/<uuid:tenant_id>/erasure")
class TenantErasure(MethodView):
    @blp.response(200, ErasureRequestSchema)
    @blp.alt_response(404, description="No such tenant, or no erasure requested")
    @blp.requires_platform
    def get(self, tenant_id):
        """The tenant's pending erasure request."""
        return erasure_requests.get_request(tenant_id)

    @blp.response(202, ErasureRequestSchema)
    @blp.alt_response(200, schema=ErasureRequestSchema,
                      description="Already requested: the existing request")
    @blp.alt_response(404, description="No such tenant")
    @blp.alt_response(409, description="The tenant is not inactive")
    @blp.requires_platform
    def post(self, tenant_id):
        """Request the tenant's erasure: every row of it, leaving a tombstone, once it has been
        inactive for the grace period. Export it first: an erasure cannot be undone."""
        found, created = erasure_requests.request_erasure(tenant_id, g.identity.actor)
        return found, 202 if created else 200

    @blp.response(204)
    @blp.alt_response(404, description="No such tenant, or no erasure requested")
    @blp.requires_platform
    def delete(self, tenant_id):
        """Withdraw the request: the tenant is kept."""
        erasure_requests.withdraw(tenant_id)
