"""What each module says about its data for export, import and purge (issue 17): the
``tenantry_module_data`` hook's ``ModuleData`` answers, checked and merged with core's own.

- ``excluded_tables`` / ``excluded_columns``: never exported (secrets, state meaningful only
  here). An excluded column must be nullable or have a server default, so that an import can
  write its row without it.
- ``references``: columns of the module's own tables that point at another module's rows
  without a foreign key (a soft reference, e.g. a POS register's stock location: POS does not
  require stock). ``tenantry modules purge`` refuses to purge the module referred to while
  such a column still holds a value for the tenant, as it refuses while a module that
  requires it has data.

A module's tables are those its models' package maps (``tables_by_module``); a declaration
naming another module's table is refused when the app starts to use it (PluginError).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.app_state import app_state
from core.extensions import db
from core.plugins import PluginError
from core.schema_migrations import deployment_tables


@dataclass(frozen=True)
class ModuleData:
    """A module's answer to ``tenantry_module_data``."""

    excluded_tables: tuple[str, ...] = ()
    excluded_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # other module key -> ("table.column", ...) of this module's tables
    references: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


CORE_DATA = ModuleData(
    excluded_tables=("console_sessions", "idempotency_keys"),
    excluded_columns={"users": ("password_hash",), "api_keys": ("key_hash",)})


@dataclass(frozen=True)
class DataRules:
    """Every module's declarations together: what export skips and what purge checks."""

    owners: Mapping[str, str]  # tenant table -> module key ("core")
    excluded_tables: frozenset[str]
    excluded_columns: Mapping[str, frozenset[str]]
    # referred-to module key -> (referring module key, table, column)
    references: Mapping[str, tuple[tuple[str, str, str], ...]]

    def tables_of(self, key: str) -> list[str]:
        return sorted(table for table, owner in self.owners.items() if owner == key)


def module_of_tables(app) -> dict[str, str]:
    """Tenant table name -> the module whose package maps it ("core" for core's)."""
    deployed = deployment_tables(app)
    packages = {getattr(plugin, "__name__", type(plugin).__module__): key
                for key, plugin in app_state(app).registry.plugins.items()}
    owners = {}
    for mapper in db.Model.registry.mappers:
        table = mapper.local_table
        if table.name not in deployed or "tenant_id" not in table.c:
            continue
        module = mapper.class_.__module__
        owners[table.name] = next((key for package, key in packages.items()
                                   if module == package or module.startswith(package + ".")),
                                  "core")
    return owners


def _check(key: str, data: object, owners: Mapping[str, str]) -> ModuleData:
    if not isinstance(data, ModuleData):
        raise PluginError(f"plugin {key!r}: tenantry_module_data() must return "
                          f"core.sdk.ModuleData, not {data!r}")
    named = [*data.excluded_tables, *data.excluded_columns,
             *(ref.split(".", 1)[0] for refs in data.references.values() for ref in refs)]
    for table in named:
        if owners.get(table) != key:
            raise PluginError(f"plugin {key!r}: tenantry_module_data() names table {table!r}, "
                              "which is not one of its module's tenant tables")
    for table, columns in data.excluded_columns.items():
        for column in columns:
            found = db.metadata.tables[table].c.get(column)
            if found is None or not (found.nullable or found.server_default is not None):
                raise PluginError(f"plugin {key!r}: excluded column {table}.{column} must "
                                  "exist and be nullable or have a server default")
    for refs in data.references.values():
        for ref in refs:
            table, _, column = ref.partition(".")
            if column not in db.metadata.tables[table].c:
                raise PluginError(f"plugin {key!r}: reference {ref!r} names no column")
    return data


def data_rules(app) -> DataRules:
    """Core's and every plugin's declarations, checked (the operator commands build it once
    per run: which tables are deployed can change between runs)."""
    owners = module_of_tables(app)
    declared = [("core", CORE_DATA)] + [
        (key, _check(key, answer, owners))
        for key, answer in app_state(app).registry.call_each("tenantry_module_data")
        if answer is not None]
    tables: set[str] = set()
    columns: dict[str, frozenset[str]] = {}
    references: dict[str, list[tuple[str, str, str]]] = {}
    for key, data in declared:
        tables.update(data.excluded_tables)
        for table, names in data.excluded_columns.items():
            columns[table] = frozenset(names)
        for target, refs in data.references.items():
            references.setdefault(target, []).extend(
                (key, *ref.split(".", 1)) for ref in refs)
    return DataRules(owners, frozenset(tables), columns,
                     {k: tuple(v) for k, v in references.items()})
