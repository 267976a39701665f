"""``tenantry modules list``: every module, its requirements and install state;
``tenantry modules purge``: a disabled module's data of one tenant, after a dry run."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("modules")
def modules_group():
    """Inspect modules; purge a module's data for one tenant."""


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


@modules_group.command("purge")
@click.argument("slug")
@click.argument("key")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--yes", is_flag=True, help="Delete without asking (scripts).")
@with_appcontext
def modules_purge(slug, key, dry_run, yes):
    """Delete a disabled module's data for one tenant, after a dry run: every table and row
    count first, then all of it in one transaction, recorded in the audit logs. Export first
    (tenantry tenants export SLUG --module KEY): a purge cannot be undone."""
    from flask import current_app
    from sqlalchemy import select

    from core.commands import fail
    from core.errors import DomainError
    from core.extensions import db
    from core.models import Tenant
    from core.module_purge import plan_purge, purge
    from core.owner_session import OwnerRoleMissing, owner_connection

    app = current_app._get_current_object()
    tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar()
    db.session.rollback()
    if tenant_id is None:
        fail(f"no tenant '{slug}'")
    try:
        with owner_connection() as connection:  # the dry run writes nothing
            plan = plan_purge(app, connection, tenant_id, key)
    except DomainError as exc:
        fail(exc.message)
    except OwnerRoleMissing as exc:
        fail(str(exc))
    verb = "would delete" if dry_run else "will delete"
    click.echo(f"purge of module {key} for tenant {slug} {verb} {plan.rows} row(s):")
    for table, rows in plan.tables.items():
        click.echo(f"  {table:32} {rows}")
    for chain, rows in plan.ledger_entries.items():
        click.echo(f"  {'ledger_entries (' + chain + ')':32} {rows}")
    if dry_run:
        return
    if not yes and not click.confirm("Delete all of it? This cannot be undone"):
        fail("nothing deleted")
    try:
        done = purge(app, tenant_id, key)
    except DomainError as exc:  # something changed since the dry run above
        fail(exc.message)
    click.echo(f"purged: {done.rows} row(s) deleted in one transaction; the receipt is in the "
               "tenant's and the platform's audit logs (module.purged)")
