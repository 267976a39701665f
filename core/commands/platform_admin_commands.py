"""``tenantry platform-admins``: create platform admins, set their passwords, list them.
Passwords are read from a hidden prompt, a named variable or stdin, never from an option.
Creating an admin and setting a password write as the owner role (MIGRATION_DATABASE_URL):
the app role may only read platform admins (core/owner_session.py)."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext

from core.commands import fail, run_service


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
        fail("give --password-env or --password-stdin, not both")
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            fail(f"environment variable {password_env} is not set or empty")
        return value
    if password_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            fail("no password on standard input")
        return value
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _admin_password_command(name: str, service: str, done: str, summary: str) -> None:
    """``platform-admins <name> EMAIL``: read a password (prompt, variable or stdin), call
    ``core.platform_admins.<service>(email, password)`` and echo ``done`` about the admin."""

    @platform_admins_group.command(name, help=summary)
    @click.argument("email")
    @_with_password_options
    @with_appcontext
    def command(email, password_env, password_stdin):
        from core import platform_admins
        from core.owner_session import OwnerRoleMissing, owner_session

        password = _read_password(password_env, password_stdin)
        write = getattr(platform_admins, service)
        try:
            with owner_session() as session:
                admin = run_service(lambda: write(session, email, password), session)
                click.echo(done.format(email=admin.email, id=admin.id))
        except OwnerRoleMissing as exc:
            fail(str(exc))


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
