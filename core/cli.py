"""The ``tenantry`` command line: the group and its entry points. The commands themselves live
in core/commands/, one ``*_commands.py`` module per group (migrate-all and setup-db, serve,
tenants, modules, idempotency, platform-admins, bootstrap, plugins, db), plus plugins' commands
(billing, pos) through ``tenantry_register_commands``.

``tenantry`` is a FlaskGroup over ``core.create_app``, so no FLASK_APP is needed; ``flask --app
core ...`` and ``python -m core ...`` run the same commands (``python -m core.cli`` too).
``setup-db`` is registered on the group itself and through the ``flask.commands`` entry point so
that it works before the app can start (no database, no settings yet); every other command is
registered on the app by ``register_commands``.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from core.app_state import app_state
from core.commands.database_commands import migrate_all_command, setup_db_command
from core.commands.plugin_commands import plugins_group


def register_commands(app: Flask) -> None:
    from core.commands.audit_commands import audit_group
    from core.commands.bootstrap_command import bootstrap_command
    from core.commands.db_commands import db_group
    from core.commands.idempotency_commands import idempotency_group
    from core.commands.ledger_commands import ledger_group
    from core.commands.module_commands import modules_group
    from core.commands.platform_admin_commands import platform_admins_group
    from core.commands.scale_out_commands import scale_out_group
    from core.commands.serve_command import serve_command
    from core.commands.tenant_commands import tenants_group
    from core.commands.webhook_commands import webhooks_group

    for command in (migrate_all_command, setup_db_command, serve_command, tenants_group,
                    modules_group, bootstrap_command, idempotency_group,
                    platform_admins_group, scale_out_group, ledger_group, audit_group,
                    webhooks_group):
        app.cli.add_command(command)
    # Flask-Migrate's `db` (added by init_schema), with `revision --module KEY`.
    if "db" in app.cli.commands:
        app.cli.add_command(db_group(app.cli.commands["db"]))
    app_state(app).registry.hook.tenantry_register_commands(cli=app.cli)


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
         "README). setup-db and plugins work before the app can start; every other command "
         "loads the app.")
# Writes files only: on the group itself, so it works without settings or a database.
cli.add_command(plugins_group)


def main() -> None:
    """The ``tenantry`` console script (and ``python -m core``)."""
    cli.main()


if __name__ == "__main__":
    # `python -m core.cli ...` runs this file as __main__, a second copy of the module: hand
    # over to the real one so that the same command objects are used.
    from core.cli import main as _main

    _main()
