"""``tenantry scale-out``: check that the schema can be distributed by tenant, and distribute it
on a Citus coordinator (core/scale_out.py, docs/scale-out.md). Both connect as the migration
role (MIGRATION_DATABASE_URL), or as ``--url``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.commands import fail


def _connect(url: str | None):
    from core.provisioning import connect_admin
    from core.schema_migrations import migration_url

    return connect_admin(url or migration_url(current_app._get_current_object()))


@click.group("scale-out")
def scale_out_group():
    """Distribute the schema by tenant on Citus."""


@scale_out_group.command("check")
@click.option("--url", default=None, help="Default: MIGRATION_DATABASE_URL.")
@with_appcontext
def check_command(url):
    """Check the migrated schema against Citus' rules (runs on plain PostgreSQL too)."""
    from core.scale_out import citus_problems

    with _connect(url) as connection:
        problems = citus_problems(connection)
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        fail(f"{len(problems)} problems: the schema cannot be distributed as it is")
    click.echo("the schema can be distributed by tenant: no problem found")


@scale_out_group.command("distribute")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--url", default=None,
              help="Default: MIGRATION_DATABASE_URL (give a superuser's URL to include the "
                   "app role's setting).")
@click.option("--app-role", default=None,
              help="Also set citus.propagate_set_commands = 'local' for this role (needs a "
                   "role that may ALTER it).")
@with_appcontext
def distribute_command(dry_run, url, app_role):
    """Make platform tables reference tables and tenant tables distributed by tenant_id in one
    colocation group; safe to run again (what is distributed is skipped)."""
    from core.scale_out import NotCitus, citus_problems, distribute, distribution_plan

    with _connect(url) as connection:
        problems = citus_problems(connection)
        if problems:
            fail("the schema breaks Citus' rules; run `tenantry scale-out check`")
        if dry_run:
            plan = distribution_plan(connection, app_role)
        else:
            try:
                plan = distribute(connection, app_role)
            except NotCitus as exc:
                fail(str(exc))
    if not plan:
        click.echo("nothing to do: every table is distributed already")
        return
    for statement in plan:
        click.echo(f"{statement};")
    click.echo(f"-- {'planned' if dry_run else 'done'}: {len(plan)} statements")
