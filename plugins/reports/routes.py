"""``/api/v1/reports``: the reports a tenant can run, and running one as JSON or CSV.

Which reports exist for a tenant depends on its modules (a report of a disabled module is
not listed and answers 404) and on the caller's role (``ReportDefinition.roles``).
"""

from __future__ import annotations

from flask import Response, current_app, g, request
from flask.views import MethodView

from core.sdk import Blueprint, Forbidden, Unprocessable, app_state, module_state
from plugins.reports import services
from plugins.reports.catalogue import ReportCatalogue
from plugins.reports.schemas import ReportResultSchema, ReportSchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Reports contributed by the tenant's modules, as JSON or CSV")

MODULE_KEY = "reports"  # the per-app catalogue is kept under the module's key
CSV = "text/csv"
JSON = "application/json"


def _catalogue() -> ReportCatalogue:
    return app_state().plugin_objects[MODULE_KEY]


def _enabled_modules() -> set[str]:
    modules = app_state().registry.modules
    return {key for key in modules if module_state(g.tenant.id, key).enabled}


def _wants_csv() -> bool:
    """``?format=`` wins over ``Accept`` (a download link cannot set headers)."""
    requested = request.args.get("format")
    if requested is not None:
        if requested.lower() not in ("json", "csv"):
            raise Unprocessable("invalid report parameters",
                                {"query": {"format": ["Must be one of: json, csv."]}})
        return requested.lower() == "csv"
    return request.accept_mimetypes.best_match([JSON, CSV]) == CSV


@blp.route("")
class Reports(MethodView):
    @blp.response(200, ReportSchema(many=True))
    @blp.requires_roles()
    def get(self):
        """List the reports this caller can run (their module enabled, their role allowed)."""
        return [report.describe() for report in
                _catalogue().visible(_enabled_modules(), g.identity.role)]


@blp.route("/<string:name>")
class ReportByName(MethodView):
    @blp.response(200, ReportResultSchema)
    @blp.doc(
        description="Query parameters depend on the report: see `parameters` in "
                    "GET /api/v1/reports. Answers CSV (header row = columns) with "
                    "`Accept: text/csv` or `?format=csv`.",
        parameters=[{"name": "format", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["json", "csv"]},
                     "description": "Overrides the Accept header"}],
        responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}})
    @blp.error(404, "No such report, or its module is not enabled")
    @blp.error(422, "Invalid parameters (field errors under errors.query)")
    @blp.error(503, "The report ran longer than the statement timeout")
    @blp.requires_roles()
    def get(self, name):
        """Run a report."""
        report = _catalogue().get(name, _enabled_modules())
        definition = report.definition
        if g.identity.role not in definition.roles:
            raise Forbidden(f"role '{g.identity.role}' may not run report '{name}'; allowed: "
                            f"{', '.join(definition.roles)}")
        parameters = services.parse_parameters(definition, request.args)
        as_csv = _wants_csv()
        rows = services.run_report(definition, g.tenant.id, parameters,
                                   current_app.config["REPORT_STATEMENT_TIMEOUT_MS"])
        if as_csv:
            return Response(services.csv_text(definition.columns, rows), mimetype=CSV,
                            headers={"Content-Disposition":
                                     f'attachment; filename="{name}.csv"'})
        return {"report": name, "parameters": services.echo_parameters(definition, parameters),
                "columns": list(definition.columns), "rows": services.json_rows(rows)}
