"""Liveness and readiness (runbook 000 "Running and health", runbook 002 "Quick Health Check").

Liveness never touches the database (nor waits for a pooled connection): it answers while the
database is down, stuck or locked. Readiness answers 200 only when the database answers as a
safe app role and core and every installed module are at their migration heads; otherwise 503
with each reason, named precisely: the database unreachable (or busy, or refusing the role), the
schema missing, or which branch is behind — and the command that fixes it.
"""

from __future__ import annotations

import logging

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from core.blueprint import Blueprint, hostless
from core.errors import error_response, rollback_quietly, unavailable_reason
from core.extensions import db
from core.install_states import unloaded_plugins
from core.readiness import schema_problems
from core.role_check import UnsafeDatabaseRole
from core.schemas import StatusSchema

log = logging.getLogger("tenantry.health")

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


def _database_problem(exc: Exception) -> str | None:
    """The readiness reason for a database that did not answer (None: not such an error)."""
    reason = unavailable_reason(exc)
    if reason is None or isinstance(exc, UnsafeDatabaseRole):
        return reason
    cause = getattr(exc, "orig", None) or exc
    # The driver's own text (host, port, role name; never a password) goes to the log only.
    log.warning("readiness: the database did not answer: %s: %s", type(cause).__name__,
                str(cause).strip().splitlines()[0] if str(cause).strip() else "-")
    if reason == "the database is unavailable":
        return f"database unreachable: the connection failed or was lost ({type(cause).__name__})"
    return f"database unreachable: {reason}"


def readiness_problems() -> list[str]:
    """Every reason this worker is not ready (empty = ready)."""
    try:
        db.session.execute(text("SELECT 1"))  # now, whatever the schema cache remembers
        return list(schema_problems().values())
    except Exception as exc:
        rollback_quietly()
        problem = _database_problem(exc)
        if problem is None:
            raise
        return [problem]


@hostless
class Liveness(MethodView):
    @blp.response(200, StatusSchema)
    def get(self):
        """Liveness: the process answers (no database access)."""
        return {"status": "ok"}


class ReadinessSchema(StatusSchema):
    notices = fields.List(fields.String(), metadata={
        "description": "What does not stop this worker from serving but needs an operator: "
                       "plugins installed after it started ('installed, not loaded': restart)"})


@hostless
class Readiness(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, description="Not ready; `message` says why")
    def get(self):
        """Readiness: the database answers and every installed module is migrated."""
        problems = readiness_problems()
        if problems:
            log.warning("not ready: %s", "; ".join(problems))
            return error_response(503, "not ready: " + "; ".join(problems),
                                  {"reasons": problems})
        # A plugin installed after this worker started does not make it unready (it serves
        # everything it served before), but the operator must restart it to load the plugin.
        notices = [plugin.notice() for plugin in unloaded_plugins()]
        if not notices:
            return {"status": "ok"}
        log.warning("readiness notice: %s", "; ".join(notices))
        return {"status": "ok", "notices": notices}


for path in ("/healthz", "/health", "/api/v1/health"):
    blp.add_url_rule(path, endpoint="live" + path.replace("/", "_"), view_func=Liveness)
for path in ("/readyz", "/api/v1/health/ready"):
    blp.add_url_rule(path, endpoint="ready" + path.replace("/", "_"), view_func=Readiness)
