"""``tenantry plugins new KEY``: scaffold a plugin distribution (core/scaffold). Needs no
database and no settings: it only writes files."""

from __future__ import annotations

from pathlib import Path

import click

from core.commands import fail
from core.scaffold import ScaffoldError, create_plugin


@click.group("plugins")
def plugins_group():
    """Write new plugins."""


@plugins_group.command("new")
@click.argument("key")
@click.option("--name", default=None, help="Display name (default: from the key).")
@click.option("--directory", type=click.Path(path_type=Path), default=None,
              help="Where to write it (default: ./tenantry-KEY).")
def new_plugin(key, name, directory):
    """Write a complete plugin distribution for module KEY: pyproject with the entry point,
    hookimpls, a tenant table and its first migration, API routes, a console page, tests
    through the test kit, and a README."""
    directory = directory or Path.cwd() / f"tenantry-{key.replace('_', '-')}"
    try:
        written = create_plugin(key, directory, name)
    except ScaffoldError as exc:
        fail(str(exc))
    for path in written:
        click.echo(f"  {path.relative_to(directory)}")
    click.echo(f"plugin {key!r} written to {directory}\nnext: cd {directory} && "
               "pip install -e '.[test]' && tenantry migrate-all && pytest")
