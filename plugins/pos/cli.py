"""``tenantry pos``: operations on POS from the server's shell.

``tenantry pos retry-fiscal`` sends every pending fiscal document (receipts, refunds, shift
openings and closings) of each tenant to its cash-register provider, now, and exits 1 while
documents are still pending, so monitoring notices. With ``--loop`` it is the fiscal outbox's
worker: it goes on, every ``--interval`` seconds, sending only what is due (each failure waits
longer: fiscal.py's backoff), until stopped (SIGTERM or Ctrl-C).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.sdk import Tenant, db, module_state, run_worker, tenant_context


@click.group("pos")
def pos_group():
    """Point of sale: fiscal registration."""


def _pass(slug: str | None, *, due_only: bool, quiet: bool) -> int:
    """One delivery pass over the tenants with POS enabled; returns what is still pending."""
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
            registered, left = fiscal.deliver(tenant_id, due_only=due_only)
        left_total += left
        if registered or (left and not quiet):
            click.echo(f"tenant {tenant_slug}: {registered} registered, {left} still pending "
                       f"(provider {provider})")
    return left_total


@pos_group.command("retry-fiscal")
@click.option("--tenant", "slug", default=None, help="Only this tenant (slug).")
@click.option("--loop", is_flag=True, help="Keep going: the outbox worker (until stopped).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds between passes with --loop.")
@with_appcontext
def retry_fiscal_command(slug, loop, interval):
    """Send pending fiscal documents to each tenant's cash-register provider."""
    run_worker("retry-fiscal", lambda due_only: _pass(slug, due_only=due_only, quiet=due_only),
               loop=loop, interval=interval, items="document(s)")
