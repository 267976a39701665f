"""Running a report: parameters, a statement timeout, a read-only savepoint, JSON and CSV.

A report runs inside the request's transaction, so RLS scopes it to the tenant. It runs in a
SAVEPOINT that is always rolled back afterwards: whatever a faulty definition wrote is undone,
and the transaction-local ``statement_timeout`` set inside it ends with it, so the rest of the
request (and the pooled connection) never inherits it.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from core.sdk import RESERVED_PARAMETERS, ReportDefinition, ServiceUnavailable, Unprocessable, db

log = logging.getLogger("tenantry.reports")

_SET_TIMEOUT = text("SELECT set_config('statement_timeout', :ms, true)")
_QUERY_CANCELED = "57014"
# Cells that a spreadsheet would read as a formula (CSV injection); such text gets a leading
# apostrophe. Only text: numbers keep their minus sign.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def parse_parameters(definition: ReportDefinition, query: MultiDict) -> dict[str, Any]:
    """The report's parameters from the query string; 422 with field errors.

    Unknown parameters are refused (a misspelt ``date_form`` must not silently run the
    default range).
    """
    schema = definition.parameters()
    args = MultiDict([(k, v) for k, v in query.items(multi=True) if k not in RESERVED_PARAMETERS])
    try:
        return schema.load(MultiDictProxy(args, schema))
    except ValidationError as exc:
        raise Unprocessable("invalid report parameters", {"query": exc.messages}) from exc


def echo_parameters(definition: ReportDefinition, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the report ran with them (defaults filled in), JSON-ready."""
    return definition.parameters().dump(parameters)


def run_report(definition: ReportDefinition, tenant_id: uuid.UUID, parameters: dict[str, Any],
               timeout_ms: int) -> list[dict[str, Any]]:
    """Rows of the report, each a dict in ``columns`` order; 503 if a statement runs longer
    than ``timeout_ms``."""
    savepoint = db.session.begin_nested()
    try:
        db.session.execute(_SET_TIMEOUT, {"ms": str(timeout_ms)})
        # list(): a generator must finish while the timeout and the savepoint still apply.
        rows = list(definition.run(tenant_id, parameters))
    except DBAPIError as exc:
        savepoint.rollback()
        if getattr(exc.orig, "sqlstate", None) == _QUERY_CANCELED:
            log.warning("report cancelled by statement timeout: report=%s timeout_ms=%s",
                        definition.name, timeout_ms)
            raise ServiceUnavailable(
                f"report '{definition.name}' took longer than {timeout_ms} ms and was "
                "cancelled; narrow its parameters (e.g. a shorter date range)") from exc
        raise
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.rollback()
    return [_ordered(definition, row) for row in rows]


def _ordered(definition: ReportDefinition, row: Mapping[str, Any]) -> dict[str, Any]:
    missing = [c for c in definition.columns if c not in row]
    if missing:
        # A bug in the definition, not bad input: fail loudly (500) with a clear log line.
        raise RuntimeError(f"report {definition.name!r} returned a row without columns "
                           f"{missing}")
    return {column: row[column] for column in definition.columns}


def json_value(value: Any) -> Any:
    """Decimals as strings (never floats: money), times ISO 8601, ids as strings."""
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in rows]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    return str(json_value(value))


def csv_text(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """RFC 4180 CSV: a header row of column names, CRLF line ends, quoting where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in columns])
    return buffer.getvalue()
