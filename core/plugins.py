"""Plugin manager: built-in plugins, entry-point plugins, module descriptions, dependency order.

One ``PluginRegistry`` per app lives in ``app_state(app).registry``; there is no global
manager. Built-in plugins are named in ``BUILTIN_PLUGINS``; third-party plugins are found in the
``tenantry.plugins`` entry-point group. ``DISABLED_PLUGINS`` blocks installed plugins for the
whole deployment. Plugins are registered in reverse topological order of their ``requires`` so
that pluggy (which calls the last registered first) calls a module after the ones it requires.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from core import hookspecs

log = logging.getLogger("tenantry.plugins")

PROJECT = "tenantry"
ENTRY_POINT_GROUP = "tenantry.plugins"
hookimpl = pluggy.HookimplMarker(PROJECT)

# Import paths of the plugins shipped with Tenantry. A literal tuple: no scanning, no imports
# for side effects; order does not matter (dependency order is computed).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugins.billing",
    "plugins.cases",
    "plugins.catalog",
    "plugins.stock",
    "plugins.purchasing",
    "plugins.sales",
    "plugins.pos",
    "plugins.reports",
    "plugins.users",
)


# The version of the plugin SDK (core.sdk) this core provides, semantic: a name removed or
# changed incompatibly raises the major version, a name added the minor (CHANGELOG.md). A
# plugin states the range it was built for in ``Module.requires_core``.
SDK_VERSION = "1.3.0"


class PluginError(RuntimeError):
    """The set of plugins cannot form a working app (cycle, missing requirement, bad plugin)."""


@dataclass(frozen=True)
class Module:
    """What a plugin provides: one module that tenants can switch on."""

    key: str
    name: str
    version: str
    requires: tuple[str, ...] = ()
    features: Mapping[str, Any] = field(default_factory=dict)  # feature name -> default value
    tenant_toggleable: bool = True
    description: str = ""
    # The SDK versions this plugin works with, a PEP 440 specifier such as ">=1.0,<2"
    # (None: not stated; the plugin is loaded whatever the SDK version).
    requires_core: str | None = None
    # The hash chains its migrations made (core.sdk.LedgerChain; SDK 1.2): what
    # ``tenantry ledger verify`` and GET /api/v1/tenant/ledger walk.
    ledger_chains: tuple[Any, ...] = ()


@dataclass
class PluginRegistry:
    """The app's plugin manager plus the modules it provides, in dependency order."""

    pm: pluggy.PluginManager
    modules: dict[str, Module]  # key -> Module, topologically ordered
    plugins: dict[str, object]  # key -> plugin object
    # key -> a manager holding that plugin alone, with the hookspecs call_each needed so far
    alone: dict[str, pluggy.PluginManager] = field(default_factory=dict, repr=False)

    @property
    def hook(self):
        return self.pm.hook

    def module(self, key: str) -> Module | None:
        return self.modules.get(key)

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook once per plugin that implements it, through pluggy, in the order the app's
        manager calls them (dependency order): ``(module key, answer)`` pairs.

        For a caller that must know which plugin answered (a blueprint's guard is its module,
        an error names the plugin); every other caller uses ``self.hook.<name>(...)``. Each call
        goes through a manager holding that plugin alone with the same hookspecs, so
        ``firstresult`` (the answer is one value, not a list) and the plugin's own wrappers
        work as in any hook call; without ``firstresult`` the answer is the list of the
        plugin's non-None results.
        """
        caller = getattr(self.pm.hook, hook_name, None)
        if caller is None:  # nobody declares or implements it (an absent plugin's extension)
            return []
        names = dict.fromkeys(impl.plugin_name for impl in reversed(caller.get_hookimpls())
                              if not (impl.wrapper or impl.hookwrapper))
        return [(name, getattr(self._alone(name, caller).hook, hook_name)(**kwargs))
                for name in names]

    def _alone(self, key: str, caller: Any) -> pluggy.PluginManager:
        """The manager holding plugin ``key`` alone, given the spec of ``caller``'s hook when
        the app's manager has one (added on first use: adding every plugin's specs to every
        such manager up front would double the cost of building an app)."""
        pm = self.alone.get(key)
        if pm is None:
            pm = self.alone[key] = _plugin_alone(key, self.plugins[key])
        own = getattr(pm.hook, caller.name, None)
        if caller.spec is not None and (own is None or own.spec is None):
            pm.add_hookspecs(caller.spec.namespace)  # the whole module the spec came from
        return pm

    def migration_folders(self) -> dict[str, Path]:
        """Module key -> folder of its Alembic branch, for modules that have one."""
        return {key: Path(folder) for key, folder in self.call_each("tenantry_migration_folder")
                if folder}

    def dependents(self, key: str) -> list[str]:
        """Modules that require ``key`` directly."""
        return [m.key for m in self.modules.values() if key in m.requires]

    def closure(self, key: str) -> list[str]:
        """``key`` and everything it requires, transitively, requirements first."""
        seen: list[str] = []

        def visit(k: str) -> None:
            for required in self.modules[k].requires:
                visit(required)
            if k not in seen:
                seen.append(k)

        visit(key)
        return seen


def _load_builtin(path: str) -> ModuleType:
    return importlib.import_module(path)


def discover(disabled: Iterable[str] = (), builtins: Iterable[str] = BUILTIN_PLUGINS,
             extra: Iterable[tuple[str, object]] = ()) -> list[tuple[str, object]]:
    """(name, plugin) pairs: built-ins, then entry points, then ``extra`` (tests)."""
    disabled = {name.lower() for name in disabled}
    found: list[tuple[str, object]] = []
    for path in builtins:
        name = path.rsplit(".", 1)[-1]
        if name not in disabled:
            found.append((name, _load_builtin(path)))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name.lower() in disabled:
            continue
        try:
            found.append((ep.name, ep.load()))
        except Exception as exc:  # report which distribution is broken, whatever broke it
            raise PluginError(f"plugin entry point {ep.name!r} ({ep.value}) failed to load: "
                              f"{exc}") from exc
    found.extend((n, p) for n, p in extra if n.lower() not in disabled)
    return found


def topological_order(modules: Mapping[str, Module]) -> list[str]:
    """Module keys with every requirement before its dependents; clear errors otherwise."""
    for module in modules.values():
        for required in module.requires:
            if required not in modules:
                raise PluginError(
                    f"module {module.key!r} requires {required!r}, which is not installed "
                    f"or is blocked by DISABLED_PLUGINS")
    order: list[str] = []
    state: dict[str, str] = {}  # key -> "visiting" | "done"

    def visit(key: str, path: list[str]) -> None:
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            cycle = [*path[path.index(key):], key]
            raise PluginError("module requirements form a cycle: " + " -> ".join(cycle)
                              + f" ({cycle[-2]!r} requires {key!r})")
        state[key] = "visiting"
        for required in modules[key].requires:
            visit(required, [*path, key])
        state[key] = "done"
        order.append(key)

    for key in sorted(modules):
        visit(key, [])
    return order


def _plugin_alone(name: str, plugin: object) -> pluggy.PluginManager:
    """A manager holding only ``plugin``, with core's hookspecs: for the hooks that describe a
    plugin before the app's manager exists (its module, its settings; the app's manager
    registers plugins in an order that needs the modules), and for ``call_each``."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name=name)
    return pm


def declared_settings(disabled: Iterable[str] = (), builtins: Iterable[str] = BUILTIN_PLUGINS,
                      extra: Iterable[tuple[str, object]] = ()) -> list[tuple[str, Any]]:
    """(plugin name, setting) for every setting the discoverable plugins declare with
    ``tenantry_settings``. Asked of each plugin alone, before any app exists: the settings
    loader (``core.config.load_settings``) runs before the app's manager is built."""
    found = []
    for name, plugin in discover(disabled, builtins, extra):
        for answer in _plugin_alone(name, plugin).hook.tenantry_settings():
            found.extend((name, setting) for setting in answer)
    return found


def _require_compatible(name: str, module: Module) -> None:
    """Refuse, at start-up, a plugin built for another SDK than this core provides."""
    if module.requires_core is None:
        return
    try:
        wanted = SpecifierSet(module.requires_core)
    except InvalidSpecifier as exc:
        raise PluginError(f"plugin {name!r}: requires_core {module.requires_core!r} is not a "
                          "version range such as '>=1.0,<2'") from exc
    if SDK_VERSION not in wanted:
        raise PluginError(
            f"plugin {name!r} (module {module.key!r} {module.version}) needs the Tenantry "
            f"plugin SDK {module.requires_core}, but this Tenantry provides {SDK_VERSION}: "
            "install a version of the plugin built for it, or remove the plugin")


def build_registry(disabled: Iterable[str] = (), builtins: Iterable[str] = BUILTIN_PLUGINS,
                   extra: Iterable[tuple[str, object]] = ()) -> PluginRegistry:
    candidates = discover(disabled, builtins, extra)
    described: dict[str, tuple[Module, object]] = {}
    alone: dict[str, pluggy.PluginManager] = {}
    for name, plugin in candidates:
        single = _plugin_alone(name, plugin)
        module = single.hook.tenantry_module()  # firstresult: the one Module, or None
        if module is None:
            raise PluginError(f"plugin {name!r} does not implement tenantry_module()")
        if not isinstance(module, Module):
            raise PluginError(f"plugin {name!r}: tenantry_module() must return core.plugins.Module")
        _require_compatible(name, module)
        if module.key in described:
            raise PluginError(f"module key {module.key!r} is provided by two plugins")
        described[module.key] = (module, plugin)
        alone[module.key] = single

    order = topological_order({key: module for key, (module, _) in described.items()})
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for key in reversed(order):  # pluggy calls LIFO: register dependents first
        pm.register(described[key][1], name=key)
    pm.hook.tenantry_add_hookspecs(pluginmanager=pm)
    pm.check_pending()
    return PluginRegistry(
        pm=pm,
        modules={key: described[key][0] for key in order},
        plugins={key: described[key][1] for key in order},
        alone=alone,
    )
