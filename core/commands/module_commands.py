"""``tenantry modules list``: every module, its requirements and install state."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("modules")
def modules_group():
    """Inspect modules."""


@modules_group.command("list")
@with_appcontext
def modules_list():
    """List every module with its version, requirements and install state: ready, loaded with
    migrations pending, or installed but not loaded (servers started before it was installed
    must be restarted)."""
    from core.install_states import MIGRATE, PENDING, unloaded_plugins
    from core.install_states import module_state as state_of
    from core.modules import installed_versions, registry
    from core.readiness import schema_problems

    installed, problems = installed_versions(), schema_problems()
    for module in registry().modules.values():
        state = state_of(module.key, installed, problems)
        if state == PENDING:
            state = f"{state}: {MIGRATE}"
        elif installed.get(module.key) not in (None, module.version):
            state = f"{state} (database records {installed[module.key]})"
        requires = ", ".join(module.requires) or "-"
        click.echo(f"{module.key:12} {module.version:8} requires: {requires:24} {state}")
    for plugin in unloaded_plugins():
        click.echo(f"{plugin.name:12} {'-':8} {plugin.notice()}")
    click.echo("A server started before a plugin was installed has not loaded it: restart it "
               "(its /readyz lists such plugins as 'installed, not loaded').")
