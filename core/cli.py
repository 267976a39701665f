"""``flask`` commands: migrate-all, setup-db, serve, tenants, modules (plus plugins' commands).

``setup-db`` is registered through the ``flask.commands`` entry point so that it works before
the app can start (no DATABASE_URL yet); the rest are registered on the app.
"""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from core.extensions import db


def register_commands(app: Flask) -> None:
    from core.bootstrap import bootstrap_command

    for command in (migrate_all_command, serve_command, tenants_group, modules_group,
                    bootstrap_command, idempotency_group):
        app.cli.add_command(command)
    app.extensions["tenantry"].hook.tenantry_register_commands(cli=app.cli)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


# --------------------------------------------------------------------------- migrations


@click.command("migrate-all")
@with_appcontext
def migrate_all_command():
    """Apply core then every installed plugin's migrations, as the migration role."""
    from core.schema import migrate_all

    migrate_all(echo=click.echo)


@click.command("setup-db")
@click.option("--admin-url", required=True, envvar="ADMIN_DATABASE_URL",
              help="URL of a role that may create databases and roles (e.g. postgres).")
@click.option("--database", default="tenantry", show_default=True)
@click.option("--owner-role", default="tenantry_owner", show_default=True)
@click.option("--app-role", default="tenantry_app", show_default=True)
@click.option("--owner-password", envvar="OWNER_PASSWORD", default=None,
              help="Default: generated and printed once.")
@click.option("--app-password", envvar="APP_PASSWORD", default=None,
              help="Default: generated and printed once.")
@click.option("--no-passwords", is_flag=True,
              help="Leave passwords unset (trust or peer authentication).")
def setup_db_command(admin_url, database, owner_role, app_role, owner_password, app_password,
                     no_passwords):
    """Create the database, the owner (migration) role and the app role; idempotent."""
    from sqlalchemy.engine import make_url

    from core.dbsetup import RolePlan, provision

    if not no_passwords:
        owner_password = owner_password or secrets.token_urlsafe(24)
        app_password = app_password or secrets.token_urlsafe(24)
    for line in provision(admin_url, RolePlan(database, owner_role, app_role,
                                              owner_password, app_password)):
        click.echo(line)
    base = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
        database=database)
    click.echo("\nSet these (shown once; store them in your secret manager):")
    click.echo("DATABASE_URL=" + base.set(username=app_role, password=app_password)
               .render_as_string(hide_password=False))
    click.echo("MIGRATION_DATABASE_URL=" + base.set(username=owner_role, password=owner_password)
               .render_as_string(hide_password=False))


# --------------------------------------------------------------------------- dev server


@click.command("serve")
@click.option("--host", default=None, help="Default: APP_HOST.")
@click.option("--port", default=None, type=int, help="Default: APP_PORT.")
@click.option("--no-demo", is_flag=True, help="Do not create the demo tenant.")
@with_appcontext
def serve_command(host, port, no_demo):
    """Migrate, seed (platform owner, demo tenant) and run the development server."""
    from core.db import verify_app_role
    from core.schema import migrate_all
    from core.seed import seed_demo

    app = current_app._get_current_object()
    migrate_all(echo=click.echo)
    verify_app_role(db.engine)
    host = host or app.config["APP_HOST"]
    port = port or app.config["APP_PORT"]
    if not no_demo:
        seed_demo(app, port, echo=click.echo)
    click.echo(f"Tenantry on http://{host}:{port} (platform) and "
               f"http://demo.{app.config['ROOT_DOMAIN']}:{port} (demo tenant); "
               f"API docs at /api/v1/docs")
    # run_simple, not app.run: Flask ignores app.run() inside a `flask` command.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


# --------------------------------------------------------------------------- tenants


@click.group("tenants")
def tenants_group():
    """Create, list, activate and deactivate tenants."""


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
    from core.tenants import create_tenant

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
        _fail(f"{exc.message} {exc.errors or ''}".strip())
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
    from core.tenants import set_status

    tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar()
    if tenant_id is None:
        _fail(f"no tenant '{slug}'")
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


# --------------------------------------------------------------------------- modules


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
            "available (run flask migrate-all)"
        requires = ", ".join(module.requires) or "-"
        click.echo(f"{module.key:12} {module.version:8} requires: {requires:24} {state}")



# --------------------------------------------------------------------------- idempotency


@click.group("idempotency")
def idempotency_group():
    """Maintain stored Idempotency-Key responses."""


@idempotency_group.command("purge")
@with_appcontext
def idempotency_purge():
    """Delete records older than IDEMPOTENCY_RETENTION_HOURS, for every tenant (as the
    migration role, which may see every tenant's rows). Run it daily, e.g. from cron."""
    from sqlalchemy import create_engine, pool

    from core.idempotency import purge_expired
    from core.schema import migration_url

    app = current_app._get_current_object()
    engine = create_engine(migration_url(app), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            deleted = purge_expired(connection, app.config["IDEMPOTENCY_RETENTION_HOURS"])
    finally:
        engine.dispose()
    click.echo(f"idempotency records purged: {deleted}")
