"""The reports extension point: every module contributes its own report definitions.

A module implements ``tenantry_reports_definitions`` in its plugin (marked
``@hookimpl(optionalhook=True)``, since the reports module may not be installed) and returns
``ReportDefinition`` objects. The reports module lists only the reports whose ``module`` is
enabled for the tenant, validates parameters with the definition's schema, runs ``run`` under
a statement timeout inside the request's tenant-scoped transaction (RLS applies), and answers
JSON or CSV.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

from core.hookspecs import hookspec


@dataclass(frozen=True)
class ReportDefinition:
    name: str  # unique across modules, URL-safe: GET /api/v1/reports/<name>
    title: str
    module: str  # the module that must be enabled for the tenant
    parameters: type[Schema]  # query parameters; raise ValidationError for bad ranges
    columns: tuple[str, ...]  # row keys, in CSV column order
    # (tenant_id, parsed parameters) -> rows (dicts keyed by ``columns``). Reads through
    # ``core.extensions.db.session``; must not write. Decimals and datetimes are fine.
    run: Callable[[uuid.UUID, dict[str, Any]], list[dict[str, Any]]]
    description: str = ""
    roles: tuple[str, ...] = field(default=("owner", "admin"))  # who may run it


@hookspec
def tenantry_reports_definitions():
    """Return a list of ``ReportDefinition`` this module contributes (called once per app
    when the reports module builds its catalogue)."""
