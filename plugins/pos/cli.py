"""``tenantry pos``: operations on POS from the server's shell.

``tenantry pos retry-fiscal`` registers every pending fiscal document (receipts, refunds, shift
openings and closings) with each tenant's cash-register provider. Run it after a device outage,
or from cron. It exits 1 while documents are still pending, so monitoring notices.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.sdk import Tenant, db, module_state, tenant_context


@click.group("pos")
def pos_group():
    """Point of sale: fiscal registration."""


@pos_group.command("retry-fiscal")
@click.option("--tenant", "slug", default=None, help="Only this tenant (slug).")
@with_appcontext
def retry_fiscal_command(slug):
    """Register pending fiscal documents with each tenant's cash-register provider."""
    from plugins.pos import fiscal

    statement = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
    if slug:
        statement = statement.where(Tenant.slug == slug)
    tenants = db.session.execute(statement).all()
    db.session.rollback()
    if slug and not tenants:
        raise click.ClickException(f"no tenant '{slug}'")
    left_total = 0
    for tenant_id, tenant_slug in tenants:
        with tenant_context(tenant_id):
            if not module_state(tenant_id, "pos").enabled:
                db.session.rollback()
                continue
            provider = fiscal.provider_name(tenant_id)
            registered, left = fiscal.process_pending(tenant_id)
            db.session.commit()
        left_total += left
        if registered or left:
            click.echo(f"tenant {tenant_slug}: {registered} registered, {left} still pending "
                       f"(provider {provider})")
    click.echo(f"retry-fiscal: done, {left_total} document(s) still pending")
    if left_total:
        sys.exit(1)

