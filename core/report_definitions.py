"""The reports extension point: what a module returns from ``tenantry_reports_definitions``
(core/hookspecs.py), and the parameter schemas every report spells the same way.

It is part of the SDK (``core.sdk``) rather than of the reports module because every module
contributes reports without requiring that module: a tenant without reports enabled simply
never sees them. The reports module (plugins/reports) lists the definitions whose ``module`` is
enabled for the tenant, validates parameters with the definition's schema, runs ``run`` under a
statement timeout inside the request's tenant-scoped transaction (RLS applies), and answers
JSON or CSV (docs/reports.md).

``DateRangeSchema``: ``date_from``/``date_to`` are inclusive UTC calendar days, both optional,
and a range longer than the schema's ``max_days`` is refused with 422 rather than run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, post_load


@dataclass(frozen=True)
class ReportDefinition:
    name: str  # unique across modules, URL-safe: GET /api/v1/reports/<name>
    title: str
    module: str  # the module that must be enabled for the tenant
    parameters: type[Schema]  # query parameters; raise ValidationError for bad ranges
    columns: tuple[str, ...]  # row keys, in CSV column order
    # (tenant_id, parsed parameters) -> rows (dicts keyed by ``columns``). Reads through
    # ``core.sdk.db.session``; must not write. Decimals and datetimes are fine.
    run: Callable[[uuid.UUID, dict[str, Any]], list[dict[str, Any]]]
    description: str = ""
    roles: tuple[str, ...] = field(default=("owner", "admin"))  # who may run it


# Query parameters the reports endpoint reads itself; a definition may not declare them.
RESERVED_PARAMETERS = frozenset({"format"})


class DateRangeSchema(Schema):
    """``date_from``..``date_to`` (inclusive). Defaults: the ``default_days`` days up to today.

    After loading, ``parameters["since"]`` and ``parameters["until"]`` hold the matching
    half-open UTC ``datetime`` range ``[since, until)`` for ``timestamptz`` columns.
    """

    max_days: ClassVar[int] = 366
    default_days: ClassVar[int] = 30

    date_from = fields.Date(metadata={
        "description": "First day (inclusive, UTC, YYYY-MM-DD); default: the 30 days up to "
                       "date_to"})
    date_to = fields.Date(metadata={
        "description": "Last day (inclusive, UTC, YYYY-MM-DD); default: today"})

    @post_load
    def _complete_range(self, data: dict[str, Any], **_kwargs) -> dict[str, Any]:
        # Defaults depend on each other and on "today", so they are filled in here rather than
        # with load_default; the checks run on the completed range.
        date_to = data.get("date_to") or datetime.now(UTC).date()
        if not date(1, 1, 1) + timedelta(days=self.default_days) <= date_to < date.max:
            # The default start and the end of the last day must stay representable.
            raise ValidationError("is out of range", field_name="date_to")
        date_from = data.get("date_from") or date_to - timedelta(days=self.default_days - 1)
        if date_to < date_from:
            raise ValidationError("must not be before date_from", field_name="date_to")
        days = (date_to - date_from).days + 1
        if days > self.max_days:
            raise ValidationError(f"the range may span at most {self.max_days} days "
                                  f"(asked for {days})", field_name="date_to")
        data.update(date_from=date_from, date_to=date_to, since=_midnight(date_from),
                    until=_midnight(date_to + timedelta(days=1)))
        return data


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
