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
    """List available modules, their requirements and installed versions."""
    from core.modules import installed_versions, registry

    installed = installed_versions()
    for module in registry().modules.values():
        state = f"installed {installed[module.key]}" if module.key in installed else \
            "available (run tenantry migrate-all)"
        requires = ", ".join(module.requires) or "-"
        click.echo(f"{module.key:12} {module.version:8} requires: {requires:24} {state}")
