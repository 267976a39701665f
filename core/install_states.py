"""Where each plugin stands for this process (docs/plugin-authoring.md, "Install states"):

- **installed, not loaded**: its distribution is on disk (an entry point of ``tenantry.plugins``)
  but this process started before it was installed (or could not see it), so none of its
  routes, pages or hooks exist here: restart the process;
- **loaded, migrations pending**: the plugin is loaded but its Alembic branch is missing or
  behind: run ``tenantry migrate-all``;
- **ready**: loaded and migrated; tenants may enable it.

*Why no loading at run time:* a plugin contributes blueprints, console pages, SQLAlchemy models
and pluggy hooks, which Flask and SQLAlchemy fix when the app is built (Flask refuses new routes
once it has served a request), and every worker of every pod would have to do it at the same
moment. A restart (rolling, in production) is the one safe way; readiness and the module
switches say so instead of failing in confusing ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from flask import current_app

from core.app_state import app_state
from core.plugins import ENTRY_POINT_GROUP

NOT_LOADED = "installed, not loaded"
PENDING = "loaded, migrations pending"
READY = "ready"
RESTART = "restart the server to load it (a running process does not load new plugins)"
MIGRATE = "run `tenantry migrate-all`"


@dataclass(frozen=True)
class UnloadedPlugin:
    name: str  # the entry point's name
    distribution: str  # "tenantry-notes 0.1.0"

    def notice(self) -> str:
        return f"plugin '{self.name}' ({self.distribution}) is {NOT_LOADED}: {RESTART}"


def unloaded_plugins() -> list[UnloadedPlugin]:
    """Entry points of installed distributions that this process did not load (those blocked
    by DISABLED_PLUGINS excepted: they are left out on purpose)."""
    registry = app_state().registry
    loaded = {getattr(plugin, "__name__", type(plugin).__module__)
              for plugin in registry.plugins.values()}
    disabled = {name.lower() for name in current_app.config.get("DISABLED_PLUGINS", ())}
    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        module_path = point.value.split(":", 1)[0]
        if point.name.lower() in disabled or module_path in loaded:
            continue
        dist = point.dist
        label = f"{dist.name} {dist.version}" if dist is not None else point.value
        found.append(UnloadedPlugin(point.name, label))
    return sorted(found, key=lambda plugin: plugin.name)


def unloaded_named(key: str) -> UnloadedPlugin | None:
    """The installed-but-not-loaded plugin whose entry point is named ``key``, if any."""
    return next((plugin for plugin in unloaded_plugins() if plugin.name == key), None)


def refuse_if_not_loaded(key: str) -> None:
    """409 for a module whose plugin is on disk but not loaded here (else nothing)."""
    from core.errors import Conflict

    plugin = unloaded_named(key)
    if plugin is not None:
        raise Conflict(f"module '{key}' is {NOT_LOADED} by this server: {RESTART}")


def module_state(key: str, installed: dict[str, str], problems: dict[str, str]) -> str:
    """The state of a loaded module, given the installed versions and the schema problems."""
    if key not in installed or key in problems:
        return PENDING
    return READY
