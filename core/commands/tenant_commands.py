"""``tenantry tenants``: create, list, activate, deactivate, export, import and erase
tenants."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.commands import fail
from core.extensions import db


@click.group("tenants")
def tenants_group():
    """Create, list, activate, deactivate, export, import and erase tenants."""


@tenants_group.command("create")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (default: the slug).")
@click.option("--owner-email", default=None)
@click.option("--owner-password", default=None, help="Prompted for when --owner-email is set.")
@click.option("--template", "template_key", default=None)
@click.option("--module", "modules", multiple=True, help="Enable a module (repeatable).")
@with_appcontext
def tenants_create(slug, name, owner_email, owner_password, template_key, modules):
    """Create a tenant, optionally with its first owner, a template and modules."""
    from core.errors import DomainError
    from core.tenant_lifecycle import create_tenant

    if owner_email and not owner_password:
        owner_password = click.prompt("Owner password", hide_input=True,
                                      confirmation_prompt=True)
    try:
        tenant = create_tenant(slug=slug, name=name or slug, owner_email=owner_email,
                               owner_password=owner_password, template_key=template_key,
                               modules={m: {} for m in modules})
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        fail(f"{exc.message} {exc.errors or ''}".strip())
    click.echo(f"tenant {tenant.slug} created: {tenant.id}")


@tenants_group.command("list")
@with_appcontext
def tenants_list():
    """List tenants with their status."""
    from core.models import Tenant

    for tenant in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars():
        click.echo(f"{tenant.slug:30} {tenant.status:12} {tenant.id}  {tenant.name}")


def _set_status(slug: str, status: str) -> None:
    from core.models import Tenant
    from core.tenant_lifecycle import set_status

    tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar()
    if tenant_id is None:
        fail(f"no tenant '{slug}'")
    set_status(tenant_id, status)
    db.session.commit()
    click.echo(f"tenant {slug}: {status}")


@tenants_group.command("activate")
@click.argument("slug")
@with_appcontext
def tenants_activate(slug):
    """Let a tenant's users in again."""
    _set_status(slug, "active")


@tenants_group.command("deactivate")
@click.argument("slug")
@with_appcontext
def tenants_deactivate(slug):
    """Refuse every request of a tenant with 403 (data is kept)."""
    _set_status(slug, "inactive")


@tenants_group.command("export")
@click.argument("slug")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="An empty (or new) folder for the bundle.")
@click.option("--module", "modules", multiple=True,
              help="Only this module's tables (repeatable; 'core' for core's).")
@with_appcontext
def tenants_export(slug, out, modules):
    """Export a tenant's data: a JSON-lines file per table and manifest.json (row counts,
    SHA-256), from one consistent snapshot; no password or key hashes."""
    from flask import current_app

    from core.app_state import app_state
    from core.audit import record_audit, record_platform_audit
    from core.models import Tenant
    from core.tenant_export import export_tenant

    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        fail(f"no tenant '{slug}'")
    known = {"core", *app_state().registry.modules}
    unknown = sorted(set(modules) - known)
    if unknown:
        fail(f"unknown module(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        tables = export_tenant(current_app, tenant, out, modules or None)
    except ValueError as exc:
        fail(str(exc))
    rows = sum(table.rows for table in tables)
    # Who took the tenant's data out, and what: in its audit log and the platform's.
    receipt = {"modules": sorted(modules) or "all", "rows": rows,
               "tables": {table.name: table.rows for table in tables}}
    record_audit(tenant.id, "tenant.exported", target_type="tenant", target_id=tenant.id,
                 after=receipt)
    record_platform_audit("tenant.exported", target_type="tenant", target_id=tenant.id,
                          tenant_id=tenant.id, after=receipt)
    db.session.commit()
    click.echo(f"exported tenant {slug}: {len(tables)} tables, {rows} rows, to {out}")


@tenants_group.command("erase")
@click.argument("slug", required=False)
@click.option("--scheduled", is_flag=True,
              help="Erase every tenant whose erasure a platform admin requested and whose "
                   "grace period has passed (the daily job); no question asked.")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--yes", is_flag=True, help="Erase without asking (scripts).")
@with_appcontext
def tenants_erase(slug, scheduled, dry_run, yes):
    """Erase an inactive tenant (after TENANT_ERASURE_GRACE_DAYS): every row of it, in one
    transaction, leaving a tombstone with the receipt. Export it first: this cannot be undone."""
    if bool(slug) == scheduled:
        raise click.UsageError("give a tenant's SLUG, or --scheduled (not both)")
    if scheduled:
        _erase_scheduled(dry_run)
        return
    plan = _erasure_plan(slug)
    if plan is None:
        fail("nothing erased")
    _show_plan(slug, plan, dry_run)
    if dry_run:
        return
    if not yes and not click.confirm("Erase the tenant and all its data? This cannot be undone"):
        fail("nothing erased")
    _erase(slug, fail)


def _erasure_plan(slug, refused=None):
    """The dry run's plan, or None after ``refused(message)`` (default: fail)."""
    from flask import current_app

    from core.errors import DomainError
    from core.owner_session import OwnerRoleMissing, owner_connection
    from core.tenant_erasure import plan_erasure

    try:
        with owner_connection() as connection:  # the dry run writes nothing
            return plan_erasure(current_app._get_current_object(), connection, slug)
    except (DomainError, OwnerRoleMissing) as exc:
        (refused or fail)(getattr(exc, "message", str(exc)))
    return None


def _show_plan(slug, plan, dry_run) -> None:
    verb = "would delete" if dry_run else "will delete"
    click.echo(f"erasing tenant {slug} {verb} {plan.rows} row(s) and the tenant:")
    for table, rows in plan.tables.items():
        if rows:
            click.echo(f"  {table:32} {rows}")


def _erase(slug, refused) -> bool:
    from flask import current_app

    from core.errors import DomainError
    from core.tenant_erasure import erase

    try:
        done = erase(current_app._get_current_object(), slug, actor="cli")
    except DomainError as exc:
        refused(exc.message)
        return False
    click.echo(f"erased tenant {slug}: {done.rows} row(s) deleted; tombstone {done.tenant_id}")
    return True


def _erase_scheduled(dry_run: bool) -> None:
    """Each requested erasure whose time has come; one refused (reactivated, changed since)
    is reported and kept, and the command exits 1 after doing the others."""
    from core.erasure_requests import due_requests

    due = due_requests()
    db.session.rollback()
    refusals: list[str] = []
    for _tenant_id, slug in due:
        plan = _erasure_plan(slug, refused=lambda message, s=slug: refusals.append(
            f"{s}: {message}"))
        if plan is None:
            continue
        _show_plan(slug, plan, dry_run)
        if not dry_run:
            _erase(slug, lambda message, s=slug: refusals.append(f"{s}: {message}"))
    click.echo(f"scheduled erasures: {len(due)} due, {len(refusals)} refused")
    for refusal in refusals:
        click.echo(f"  refused: {refusal}", err=True)
    if refusals:
        sys.exit(1)


@tenants_group.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--slug", required=True, help="The new tenant's slug (its host name).")
@click.option("--name", default=None, help="Display name (default: the exported tenant's).")
@click.option("--owner-email", required=True,
              help="An owner of the exported tenant, who gets a password now.")
@click.option("--owner-password", default=None, help="Prompted for when absent.")
@with_appcontext
def tenants_import(folder, slug, name, owner_email, owner_password):
    """Import a bundle (tenantry tenants export) as a new tenant: every row with its own id,
    checked against the manifest first, in one transaction. Users other than --owner-email
    have no password until one is set; API keys are not imported."""
    from flask import current_app

    from core.auth.passwords import hash_password
    from core.errors import DomainError
    from core.owner_session import OwnerRoleMissing
    from core.tenant_import import import_tenant

    if not owner_password:
        owner_password = click.prompt("Owner password", hide_input=True,
                                      confirmation_prompt=True)
    app = current_app._get_current_object()
    try:
        tenant_id, counts = import_tenant(
            app, folder, slug=slug, name=name, owner_email=owner_email,
            owner_password_hash=hash_password(owner_password))
    except OwnerRoleMissing as exc:
        fail(str(exc))
    except DomainError as exc:
        details = "; ".join(f"{key}: {', '.join(map(str, value))}"
                            for key, value in (exc.errors or {}).items())
        fail(f"{exc.message}{' (' + details + ')' if details else ''}")
    click.echo(f"imported tenant {slug} ({tenant_id}): {sum(counts.values())} rows in "
               f"{len(counts)} tables")
