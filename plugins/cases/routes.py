"""``/cases`` (ClinCore's root paths) and ``/api/v1/cases``: one blueprint, registered twice.

Who may use cases: API keys (``user`` and ``admin``: ClinCore's clients are services) and the
tenant's ``owner`` and ``admin`` users. Cashiers (a POS role) may not: clinical records are not
theirs to read. Creating a case is a metered action (billing) and accepts ``Idempotency-Key``.
"""

from __future__ import annotations

from flask import g, request, url_for
from flask.views import MethodView

from core.sdk import IDEMPOTENCY_KEY_HEADER, Blueprint, SQLPage, db, idempotent
from plugins.cases import services
from plugins.cases.schemas import CaseQueryArgsSchema, CaseSchema, CaseUpdateSchema

blp = Blueprint("cases", __name__, description="Clinical cases (ClinCore)")

CASE_ROLES = ("owner", "admin", "user")


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseQueryArgsSchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*CASE_ROLES)
    def get(self, args):
        """List cases, newest first; filter by status or patient reference."""
        return services.case_query(g.tenant.id, **args)

    @idempotent
    @blp.arguments(CaseSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(402, description="Free tier exhausted: the tenant needs the paid plan")
    @blp.alt_response(409, description="Same Idempotency-Key still being processed")
    @blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)
    @blp.requires_roles(*CASE_ROLES)
    def post(self, data):
        """Open a case (metered; accepts Idempotency-Key)."""
        case = services.create_case(g.tenant.id, actor=g.identity.actor, **data)
        # No commit: the request's one commit keeps the case and the stored response together.
        location = url_for(f"{request.blueprint}.CaseById", case_id=case.id)
        return case, 201, {"Location": location}


@blp.route("/cases/<uuid:case_id>")
class CaseById(MethodView):
    @blp.etag
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, description="No such case in this tenant")
    @blp.requires_roles(*CASE_ROLES)
    def get(self, case_id):
        """Read a case (with its ETag)."""
        return services.get_case(g.tenant.id, case_id)

    @blp.etag
    @blp.arguments(CaseUpdateSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, description="No such case in this tenant")
    @blp.requires_roles(*CASE_ROLES)
    def patch(self, changes, case_id):
        """Change a case's title, description, status or patient reference (If-Match)."""
        case = services.get_case(g.tenant.id, case_id, for_update=True)
        blp.check_etag(case, CaseSchema)
        services.update_case(case, changes)
        db.session.flush()
        return case
