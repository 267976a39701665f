"""``GET /api/v1/tenant/ledger``: a tenant owner walks the hash chains of the tenant's enabled
modules and sees, per chain and scope, how many entries hold, the head hash, and the first
break if any (core/ledger.py). Read-only; as costly as the chains are long (one content hash
per entry), so rate limits and the statement timeout apply as to any request."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from marshmallow import Schema, fields

from core.app_state import app_state
from core.blueprint import Blueprint
from core.errors import Unprocessable
from core.ledger import chains_of, verify
from core.modules import tenant_modules

blp = Blueprint("tenant_ledger", __name__, url_prefix="/api/v1/tenant",
                description="Hash-chained records of the current tenant (owner only)")


class LedgerQuerySchema(Schema):
    chain = fields.String(metadata={"description": "Only this chain (e.g. pos_receipts)"})


class ScopeReportSchema(Schema):
    scope_id = fields.UUID(metadata={"description": "A register for receipts; the zero UUID "
                                                    "for a chain per tenant"})
    entries = fields.Integer(metadata={"description": "Entries that hold, from the first"})
    ok = fields.Boolean()
    head_hash = fields.String(allow_none=True, metadata={
        "description": "SHA-256 (hex) of the last entry: record it elsewhere"})
    broken_at = fields.Integer(allow_none=True)
    document_id = fields.UUID(allow_none=True)
    reason = fields.String(allow_none=True)


class ChainReportSchema(Schema):
    chain = fields.String()
    label = fields.String()
    ok = fields.Boolean()
    unchained = fields.Integer(metadata={"description": "Documents with no entry"})
    scopes = fields.List(fields.Nested(ScopeReportSchema))


class LedgerReportSchema(Schema):
    ok = fields.Boolean()
    chains = fields.List(fields.Nested(ChainReportSchema))


@blp.route("/ledger")
class TenantLedger(MethodView):
    @blp.arguments(LedgerQuerySchema, location="query")
    @blp.response(200, LedgerReportSchema)
    @blp.alt_response(422, description="No such chain among the enabled modules")
    @blp.requires_roles("owner", kinds=("user",))
    def get(self, args):
        """Verify the tenant's hash chains: entries that hold, head hash, first break."""
        enabled = {m.key for m in tenant_modules(g.tenant.id) if m.enabled}
        chains = chains_of(app_state(current_app).registry, enabled)
        if "chain" in args:
            chains = [c for c in chains if c.name == args["chain"]]
            if not chains:
                raise Unprocessable("no such chain among the enabled modules", {"query": {
                    "chain": ["one of: " + ", ".join(sorted(
                        c.name for c in chains_of(app_state(current_app).registry, enabled)))
                              ]}})
        reports = [verify(chain, g.tenant.id) for chain in chains]
        return {"ok": all(r.ok for r in reports), "chains": reports}
