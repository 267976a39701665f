"""The app's report catalogue: every ``ReportDefinition`` the plugins contribute, collected once
per app (when the reports blueprint is registered) and checked so that a broken definition
stops the app at start-up instead of failing a tenant's request later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from core.sdk import RESERVED_PARAMETERS, NotFound, PluginError, PluginRegistry, ReportDefinition

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class CataloguedReport:
    """A definition plus what the API shows of it, computed once."""

    definition: ReportDefinition
    plugin: str  # the plugin that contributed it (for error messages)
    parameters: tuple[dict[str, Any], ...]  # OpenAPI query parameter objects

    def describe(self) -> dict[str, Any]:
        d = self.definition
        return {"name": d.name, "title": d.title, "description": d.description,
                "module": d.module, "roles": list(d.roles), "parameters": list(self.parameters),
                "columns": list(d.columns)}


class ReportCatalogue:
    """Report name -> ``CataloguedReport``, in a stable order (module, then name)."""

    def __init__(self, reports: dict[str, CataloguedReport]) -> None:
        self._reports = dict(sorted(reports.items(),
                                    key=lambda item: (item[1].definition.module, item[0])))

    def __len__(self) -> int:
        return len(self._reports)

    def names(self) -> list[str]:
        return list(self._reports)

    def visible(self, enabled_modules: set[str], role: str) -> list[CataloguedReport]:
        """Reports of enabled modules that ``role`` may run."""
        return [r for r in self._reports.values()
                if r.definition.module in enabled_modules and role in r.definition.roles]

    def get(self, name: str, enabled_modules: set[str]) -> CataloguedReport:
        """The report, if its module is enabled; else 404 (a disabled module's report does not
        exist for the tenant, like any other tenant's data)."""
        report = self._reports.get(name)
        if report is None or report.definition.module not in enabled_modules:
            raise NotFound(f"no report named '{name}'")
        return report


def _check(definition: Any, plugin: str) -> ReportDefinition:
    where = f"plugin {plugin!r}"
    if not isinstance(definition, ReportDefinition):
        raise PluginError(f"{where}: tenantry_reports_definitions() must return "
                          f"ReportDefinition objects, got {definition!r}")
    where = f"report {definition.name!r} of plugin {plugin!r}"
    problems = []
    if not isinstance(definition.name, str) or not _NAME.match(definition.name):
        problems.append("name must be 1-64 of a-z, 0-9, '_' or '-' (it is a URL segment)")
    if not (isinstance(definition.parameters, type) and issubclass(definition.parameters,
                                                                    Schema)):
        problems.append("parameters must be a marshmallow Schema class")
    else:
        reserved = RESERVED_PARAMETERS & set(definition.parameters().fields)
        if reserved:
            problems.append(f"parameter names {sorted(reserved)} are reserved")
    columns = tuple(definition.columns)
    if not columns or len(set(columns)) != len(columns) or not all(
            isinstance(c, str) and c for c in columns):
        problems.append("columns must be distinct non-empty strings, at least one")
    if not definition.roles:
        problems.append("roles must name at least one role")
    if not callable(definition.run):
        problems.append("run must be callable")
    if problems:
        raise PluginError(f"{where}: " + "; ".join(problems))
    return definition


def build_catalogue(registry: PluginRegistry, converter) -> ReportCatalogue:
    """Collect, check and describe every plugin's report definitions.

    ``converter`` is the app's apispec marshmallow converter (``api.ma_plugin.converter``), so
    parameters are described to clients exactly as OpenAPI would describe them.
    """
    reports: dict[str, CataloguedReport] = {}
    # Per plugin, in dependency order, so that an error names the plugin at fault.
    for plugin, answers in registry.call_each("tenantry_reports_definitions"):
        for definition in [item for answer in answers for item in answer or ()]:
            definition = _check(definition, plugin)
            if definition.name in reports:
                raise PluginError(
                    f"report name {definition.name!r} is defined twice: by plugin "
                    f"{reports[definition.name].plugin!r} and by plugin {plugin!r}; "
                    "report names must be unique across modules")
            parameters = tuple(converter.schema2parameters(definition.parameters,
                                                           location="query"))
            reports[definition.name] = CataloguedReport(definition, plugin, parameters)
    return ReportCatalogue(reports)
