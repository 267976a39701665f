"""``tenantry bootstrap TENANT_NAME``: ``bootstrap_tenant`` from the server's shell; the key
is printed once."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.bootstrap import bootstrap_tenant
from core.errors import DomainError
from core.extensions import db


@click.command("bootstrap")
@click.argument("tenant_name")
@click.option("--owner-email", default=None, help="Also create the tenant's first owner.")
@click.option("--owner-password", default=None, help="Prompted for when --owner-email is set.")
@with_appcontext
def bootstrap_command(tenant_name, owner_email, owner_password):
    """Provision a tenant and its first admin API key (printed once), as POST /bootstrap."""
    if owner_email and not owner_password:
        owner_password = click.prompt("Owner password", hide_input=True,
                                      confirmation_prompt=True)
    try:
        done = bootstrap_tenant(tenant_name, owner_email=owner_email,
                                owner_password=owner_password)
        lines = [f"Tenant '{done.tenant.name}' provisioned.",
                 f"tenant_id: {done.tenant.id}",
                 f"tenant host: {done.tenant.slug}.{current_app.config['ROOT_DOMAIN']}",
                 f"modules: {', '.join(done.modules) or '-'}",
                 f"api key id: {done.key.key.id} (role {done.key.key.role})",
                 f"api_key: {done.key.raw}",
                 "Store the key now: it is shown only once."]
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        details = f" {exc.errors}" if exc.errors else ""
        raise click.ClickException(f"{exc.message}{details}") from exc
    for line in lines:
        click.echo(line)
