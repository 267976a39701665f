"""The reports console pages: the reports this user may run (as ``GET /api/v1/reports`` lists
them), and one page per report with its parameters as a GET form, the result as a table, a
bar chart where one says more (plugins/reports/charts.py) and a CSV download that is the
API's CSV byte for byte.

The form is built from the catalogue's OpenAPI parameter objects (the ones the API lists), and
the query string is checked by the same ``services.parse_parameters`` as the API: bad values
answer 422 with the errors next to their fields.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, current_app, g, request
from werkzeug.datastructures import MultiDict

from core.sdk import (
    ConsoleBlueprint,
    Forbidden,
    Unprocessable,
    app_state,
    module_state,
    render_page,
)
from plugins.reports import services
from plugins.reports.catalogue import CataloguedReport, ReportCatalogue
from plugins.reports.charts import bar_chart
from plugins.reports.routes import CSV, MODULE_KEY

blp = ConsoleBlueprint("reports_console", __name__, url_prefix="/reports")
ROLES = ("owner", "admin", "cashier")  # each report narrows it (ReportDefinition.roles)
blp.nav("Reports", "index", roles=ROLES, order=60)


def _catalogue() -> ReportCatalogue:
    return app_state().plugin_objects[MODULE_KEY]


def _enabled_modules() -> set[str]:
    return {key for key in app_state().registry.modules
            if module_state(g.tenant.id, key).enabled}


@blp.route("/")
@blp.page(roles=ROLES)
def index():
    reports = _catalogue().visible(_enabled_modules(), g.identity.role)
    return render_page("reports/index.html", title="Reports",
                       reports=[report.definition for report in reports])


def _input(parameter: dict[str, Any]) -> dict[str, Any]:
    """How a query parameter is entered: its input type, or a select's options."""
    schema = parameter.get("schema", {})
    kind, options = "text", None
    if schema.get("format") == "date":
        kind = "date"
    elif schema.get("type") in ("integer", "number"):
        kind = "number"
    elif schema.get("type") == "boolean":
        kind, options = "select", [("", "Default"), ("true", "Yes"), ("false", "No")]
    elif schema.get("enum"):
        kind, options = "select", [("", "Default"), *((v, v) for v in schema["enum"])]
    label = parameter["name"].replace("_", " ").capitalize()
    return {"name": parameter["name"], "label": label, "type": kind, "options": options,
            "required": bool(parameter.get("required")),
            "description": parameter.get("description", ""),
            "step": "1" if schema.get("type") == "integer" else "any"}


def _query() -> dict[str, list[str]]:
    """The submitted parameters: blank inputs left out (a blank date means the default)."""
    return {key: [value for value in request.args.getlist(key) if value.strip() != ""]
            for key in request.args if key != "format"}


def _allowed(name: str) -> CataloguedReport:
    report = _catalogue().get(name, _enabled_modules())
    if g.identity.role not in report.definition.roles:
        raise Forbidden(f"role '{g.identity.role}' may not run report '{name}'; allowed: "
                        f"{', '.join(report.definition.roles)}")
    return report


@blp.route("/<string:name>")
@blp.page(roles=ROLES)
def run(name: str):
    report = _allowed(name)
    definition = report.definition
    inputs = [_input(parameter) for parameter in report.parameters]
    submitted = _query()
    args = MultiDict([(k, v) for k, values in submitted.items() for v in values])
    if not request.args and any(item["required"] for item in inputs):
        # First visit to a report that cannot run on defaults (a shift's X/Z report needs the
        # shift): the empty form, not a 422 for a form nobody has filled in yet.
        return render_page("reports/run.html", title=definition.title, report=definition,
                           inputs=inputs, values={}, errors={}, rows=None, chart=None)
    try:
        parameters = services.parse_parameters(definition, args)
    except Unprocessable as exc:
        errors = (exc.errors or {}).get("query", {})
        return render_page("reports/run.html", title=definition.title, status=422,
                           report=definition, inputs=inputs, values=args.to_dict(),
                           errors=_field_errors(errors), rows=None, chart=None,
                           message="Check the parameters: " + _summary(errors))
    rows = services.run_report(definition, g.tenant.id, parameters,
                               current_app.config["REPORT_STATEMENT_TIMEOUT_MS"])
    if request.args.get("format", "").lower() == "csv":
        # The API's answer: same text, type and file name.
        return Response(services.csv_text(definition.columns, rows), mimetype=CSV,
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    # The parameters it ran with (defaults filled in) fill the form and the download link.
    echoed = {key: str(value).lower() if isinstance(value, bool) else value
              for key, value in services.echo_parameters(definition, parameters).items()
              if value is not None}
    csv_args = {**echoed, "format": "csv"}
    return render_page("reports/run.html", title=definition.title, report=definition,
                       inputs=inputs, values={**echoed, **args.to_dict()}, errors={},
                       columns=definition.columns, rows=services.json_rows(rows),
                       chart=bar_chart(definition.columns, rows, _days(parameters)),
                       csv_args=csv_args,
                       numeric={c for c in definition.columns if any(
                           _is_number(row[c]) for row in rows)})


def _days(parameters: dict[str, Any]) -> tuple[date, date] | None:
    """The inclusive date range of a ``DateRangeSchema`` report."""
    first, last = parameters.get("date_from"), parameters.get("date_to")
    return (first, last) if isinstance(first, date) and isinstance(last, date) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _field_errors(errors: Any) -> dict[str, list[str]]:
    if not isinstance(errors, dict):
        return {"_schema": [str(errors)]}
    return {key: value if isinstance(value, list) else [str(value)]
            for key, value in errors.items()}


def _summary(errors: Any) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
                         for key, value in errors.items())
    return str(errors)
