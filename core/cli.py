"""The ``tenantry`` command line: migrate-all, setup-db, serve, tenants, modules, db,
platform-admins, idempotency (plus plugins' commands, e.g. bootstrap, billing, pos).

``tenantry`` is a FlaskGroup over ``core.create_app``, so no FLASK_APP is needed; ``flask --app
core ...`` and ``python -m core ...`` run the same commands (``python -m core.cli`` too).
``setup-db`` is registered on the group itself and through the ``flask.commands`` entry point so
that it works before the app can start (no database, no settings yet); every other command is
registered on the app by ``register_commands``.
"""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import select

from core.app_state import app_state
from core.extensions import db


def register_commands(app: Flask) -> None:
    from core.bootstrap import bootstrap_command
    from core.revisions import db_group

    for command in (migrate_all_command, setup_db_command, serve_command, tenants_group,
                    modules_group, bootstrap_command, idempotency_group,
                    platform_admins_group):
        app.cli.add_command(command)
    # Flask-Migrate's `db` (added by init_schema), with `revision --module KEY`.
    if "db" in app.cli.commands:
        app.cli.add_command(db_group(app.cli.commands["db"]))
    app_state(app).registry.hook.tenantry_register_commands(cli=app.cli)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


# --------------------------------------------------------------------------- the entry point


def _load_app() -> Flask:
    from core import create_app
    from core.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        # The operator's settings, not a crash: the message names every problem.
        raise click.ClickException(
            f"{exc}\n(`tenantry setup-db` runs without these settings)") from exc


class TenantryGroup(FlaskGroup):
    """FlaskGroup whose listing reports an invalid configuration in one message instead of
    a traceback (the commands that need no app are still listed)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except click.ClickException as exc:
            click.secho(f"Error: {exc.format_message()}\n", err=True, fg="red")
            self._load_plugin_commands()
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


cli = TenantryGroup(
    name="tenantry", create_app=_load_app,
    help="Tenantry operations. Settings come from the environment (DATABASE_URL, ...; see the "
         "README). setup-db works before the app can start; every other command loads the app.")


def main() -> None:
    """The ``tenantry`` console script (and ``python -m core``)."""
    cli.main()


# --------------------------------------------------------------------------- migrations


@click.command("migrate-all")
@with_appcontext
def migrate_all_command():
    """Apply core then every installed plugin's migrations, as the migration role."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from core.schema_migrations import migrate_all

    try:
        migrate_all(echo=click.echo)
    except (DBAPIError, CommandError) as exc:
        # The database's reason, not a traceback; the statement would add nothing an
        # operator can act on. Branches upgraded before the failure stay upgraded.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _fail(f"migrate-all stopped: {reason}\nIt connects as MIGRATION_DATABASE_URL, which "
              "must be the owner role that `tenantry setup-db` creates; run migrate-all "
              "again once this is fixed (finished branches are kept).")


@click.command("setup-db")
@click.option("--admin-url", required=True, envvar="ADMIN_DATABASE_URL",
              help="URL of a role that may create databases and roles (e.g. postgres); "
                   "env ADMIN_DATABASE_URL.")
@click.option("--database", default=None,
              help="Default: the database of DATABASE_URL / MIGRATION_DATABASE_URL, else "
                   "'tenantry'.")
@click.option("--owner-role", default=None,
              help="Default: the user of MIGRATION_DATABASE_URL, else 'tenantry_owner'.")
@click.option("--app-role", default=None,
              help="Default: the user of DATABASE_URL, else 'tenantry_app'.")
@click.option("--owner-password", envvar="OWNER_PASSWORD", default=None,
              help="Default: the password in MIGRATION_DATABASE_URL; else generated (and "
                   "printed once) for a new role, kept for an existing one.")
@click.option("--app-password", envvar="APP_PASSWORD", default=None,
              help="Default: the password in DATABASE_URL; else generated (and printed once) "
                   "for a new role, kept for an existing one.")
@click.option("--no-passwords", is_flag=True,
              help="Generate no passwords (trust or peer authentication).")
def setup_db_command(admin_url, database, owner_role, app_role, owner_password, app_password,
                     no_passwords):
    """Create the database, the owner (migration) role and the app role; idempotent.

    Names and passwords come from the options, else from DATABASE_URL (app role) and
    MIGRATION_DATABASE_URL (owner role) when they are set, so that one environment file
    drives this command and the app. Only passwords generated by this run are printed.
    """
    import psycopg

    from core.provisioning import SetupError, plan_from_urls, provision_database

    env_urls = {name: os.environ.get(name) or None
                for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL")}
    try:
        plan = plan_from_urls(database_url=env_urls["DATABASE_URL"],
                              migration_url=env_urls["MIGRATION_DATABASE_URL"],
                              database=database, owner_role=owner_role, app_role=app_role,
                              owner_password=owner_password, app_password=app_password)
        done = provision_database(admin_url, plan, generate_passwords=not no_passwords)
    except SetupError as exc:
        _fail(str(exc))
    except psycopg.OperationalError as exc:
        _fail(f"cannot connect with --admin-url: {str(exc).strip()}")
    for line in done.lines:
        click.echo(line)
    click.echo("")
    notes = []
    for name, role, given in (("DATABASE_URL", plan.app_role, plan.app_password),
                              ("MIGRATION_DATABASE_URL", plan.owner_role, plan.owner_password)):
        generated = done.generated.get(role)
        click.echo(f"{name}=" + _settings_url(admin_url, plan.database, env_urls[name], role,
                                              given, generated))
        if generated:
            notes.append(f"the password of {role} was generated now and is shown only this "
                         "once: store it in your secret manager")
        elif given:
            notes.append(f"*** is the password given for {role} (not shown)")
        elif not no_passwords:
            notes.append(f"{role} kept its password: add it to {name} (or pass "
                         f"--{'app' if role == plan.app_role else 'owner'}-password to set one)")
    for note in notes:
        click.echo(f"- {note}")


def _settings_url(admin_url: str, database: str, from_env: str | None, role: str,
                  given: str | None, generated: str | None) -> str:
    """The URL the app should use for ``role``: the one in the environment, else the admin
    URL's server with the role and database. Shows a password only if this run generated it."""
    from core.provisioning import parse_url

    if from_env:
        url = parse_url(from_env)
    else:
        url = parse_url(admin_url).set(database=database, username=role, password=given)
    if generated:
        return url.set(password=generated).render_as_string(hide_password=False)
    return url.render_as_string(hide_password=True)


# --------------------------------------------------------------------------- dev server


@click.command("serve")
@click.option("--host", default=None, help="Default: APP_HOST.")
@click.option("--port", default=None, type=int, help="Default: APP_PORT.")
@click.option("--no-demo", is_flag=True, help="Do not create the demo tenant.")
@with_appcontext
def serve_command(host, port, no_demo):
    """Migrate, seed (platform owner, demo tenant) and run the development server."""
    from core.role_check import verify_app_role
    from core.schema_migrations import migrate_all
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
    from core.tenant_lifecycle import set_status

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
            "available (run tenantry migrate-all)"
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
    from core.schema_migrations import migration_url

    app = current_app._get_current_object()
    engine = create_engine(migration_url(app), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            deleted = purge_expired(connection, app.config["IDEMPOTENCY_RETENTION_HOURS"])
    finally:
        engine.dispose()
    click.echo(f"idempotency records purged: {deleted}")


# --------------------------------------------------------------------------- platform admins


@click.group("platform-admins")
def platform_admins_group():
    """Create platform admins, set their passwords, list them."""


_password_options = [
    click.option("--password-env", metavar="VAR", default=None,
                 help="Read the password from this environment variable."),
    click.option("--password-stdin", is_flag=True,
                 help="Read the password from the first line of standard input."),
]


def _with_password_options(function):
    for option in reversed(_password_options):
        function = option(function)
    return function


def _read_password(password_env: str | None, password_stdin: bool) -> str:
    """From the named variable, stdin, or a hidden prompt asked twice: never from an option
    value (it would sit in the shell history and the process list)."""
    if password_env and password_stdin:
        _fail("give --password-env or --password-stdin, not both")
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            _fail(f"environment variable {password_env} is not set or empty")
        return value
    if password_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            _fail("no password on standard input")
        return value
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _run_service(action):
    from core.errors import DomainError

    try:
        result = action()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{field}: {', '.join(map(str, messages))}"
                            for field, messages in (exc.errors or {}).items())
        _fail(f"{exc.message}" + (f" ({details})" if details else ""))
    return result


def _admin_password_command(name: str, service: str, done: str, summary: str) -> None:
    """``platform-admins <name> EMAIL``: read a password (prompt, variable or stdin), call
    ``core.platform_admins.<service>(email, password)`` and echo ``done`` about the admin."""

    @platform_admins_group.command(name, help=summary)
    @click.argument("email")
    @_with_password_options
    @with_appcontext
    def command(email, password_env, password_stdin):
        from core import platform_admins

        password = _read_password(password_env, password_stdin)
        admin = _run_service(lambda: getattr(platform_admins, service)(email, password))
        click.echo(done.format(email=admin.email, id=admin.id))


_admin_password_command(
    "create", "create_admin", "platform admin {email} created: {id}",
    "Create a platform admin (password prompted for unless read from a variable or stdin).")
_admin_password_command(
    "set-password", "set_password", "platform admin {email}: password set",
    "Set a platform admin's password (e.g. to rotate FIRST_OWNER_PASSWORD's owner).")


@platform_admins_group.command("list")
@with_appcontext
def platform_admins_list():
    """List platform admins: e-mail, active or inactive, id."""
    from core.platform_admins import list_admins

    for admin in list_admins():
        click.echo(f"{admin.email:40} {'active' if admin.active else 'inactive':8} {admin.id}")


if __name__ == "__main__":
    # `python -m core.cli ...` runs this file as __main__, a second copy of the module: hand
    # over to the real one so that the same command objects are used.
    from core.cli import main as _main

    _main()
