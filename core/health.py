"""Liveness and readiness (runbook 000 "Running and health", runbook 002 "Quick Health Check").

Liveness never touches the database. Readiness checks the database and that core and every
installed module are at their migration heads; 503 with the reasons otherwise.
"""

from __future__ import annotations

import logging

from flask.views import MethodView
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.errors import error_response
from core.extensions import db
from core.http import Blueprint, hostless
from core.schema import schema_problems
from core.schemas import StatusSchema

log = logging.getLogger("tenantry.health")

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


@hostless
class Liveness(MethodView):
    @blp.response(200, StatusSchema)
    def get(self):
        """Liveness: the process answers (no database access)."""
        return {"status": "ok"}


@hostless
class Readiness(MethodView):
    @blp.response(200, StatusSchema)
    @blp.alt_response(503, description="Not ready; `message` says why")
    def get(self):
        """Readiness: the database answers and every installed module is migrated."""
        try:
            db.session.execute(text("SELECT 1"))
            problems = list(schema_problems().values())
        except SQLAlchemyError as exc:
            db.session.rollback()
            problems = [f"database unreachable: {type(exc).__name__}"]
        if problems:
            log.warning("not ready: %s", "; ".join(problems))
            return error_response(503, "not ready: " + "; ".join(problems),
                                  {"reasons": problems})
        return {"status": "ok"}


for path in ("/healthz", "/health", "/api/v1/health"):
    blp.add_url_rule(path, endpoint="live" + path.replace("/", "_"), view_func=Liveness)
for path in ("/readyz", "/api/v1/health/ready"):
    blp.add_url_rule(path, endpoint="ready" + path.replace("/", "_"), view_func=Readiness)
