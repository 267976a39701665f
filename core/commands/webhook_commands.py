"""``tenantry webhooks deliver``: send the webhook queue (core/webhooks/delivery.py), and
``tenantry webhooks purge``: delete old delivered and dead messages (WEBHOOK_RETENTION_DAYS).

Without ``--loop`` it tries every endpoint's waiting message now (retry schedule ignored),
prints what it did per tenant and exits 1 while messages are still pending, so monitoring
notices. With ``--loop`` it is the queue's worker: a pass every ``--interval`` seconds over the
tenants with a message due, respecting the schedule, until stopped (SIGTERM or Ctrl-C). Run
one or more (deploy/k8s/workers.yaml): an endpoint's messages are sent by one worker at a time.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.commands import run_worker
from core.extensions import db
from core.models import Tenant


@click.group("webhooks")
def webhooks_group():
    """Signed webhooks: the delivery worker and the history's retention."""


def _pass(slug: str | None, *, due_only: bool, quiet: bool) -> int:
    """One pass; returns how many messages are still pending."""
    from core.webhooks.delivery import deliver, due_tenants

    if slug:
        tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar()
        db.session.rollback()
        if tenant_id is None:
            raise click.ClickException(f"no tenant '{slug}'")
        tenants = [tenant_id] if not due_only or tenant_id in due_tenants() else []
    else:
        tenants = due_tenants() if due_only else list(db.session.execute(
            select(Tenant.id).order_by(Tenant.slug)).scalars())
        db.session.rollback()
    pending_total = 0
    for tenant_id in tenants:
        delivered, failed, pending = deliver(tenant_id, due_only=due_only)
        pending_total += pending
        if delivered or failed or (pending and not quiet):
            click.echo(f"tenant {tenant_id}: {delivered} delivered, {failed} failed, "
                       f"{pending} pending")
    return pending_total


@webhooks_group.command("deliver")
@click.option("--tenant", "slug", default=None, help="Only this tenant (slug).")
@click.option("--loop", is_flag=True, help="Keep going: the queue's worker (until stopped).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between passes with --loop.")
@with_appcontext
def deliver_command(slug, loop, interval):
    """Send waiting webhook messages to their endpoints."""
    from flask import current_app

    from core.commands import fail

    if not current_app.config.get("WEBHOOK_SIGNING_KEY"):
        fail("webhooks are not configured: set WEBHOOK_SIGNING_KEY (nothing can be signed)")
    run_worker("webhooks deliver",
               lambda due_only: _pass(slug, due_only=due_only, quiet=due_only),
               loop=loop, interval=interval, items="message(s)")


@webhooks_group.command("purge")
@with_appcontext
def purge_command():
    """Delete delivered and dead webhook messages older than WEBHOOK_RETENTION_DAYS, for every
    tenant (run it daily); waiting messages are never deleted."""
    from flask import current_app
    from sqlalchemy import text

    from core.audit import platform_audit_statement
    from core.commands import fail
    from core.owner_session import OwnerRoleMissing, owner_connection

    days = current_app.config["WEBHOOK_RETENTION_DAYS"]
    try:
        with owner_connection() as connection:  # every tenant's rows: the owner role
            deleted = connection.execute(text(
                "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead') "
                "AND created_at < now() - make_interval(days => :days) "
                # A replay refers to its original: keep an original while a copy is kept.
                "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries r WHERE r.tenant_id = "
                "webhook_deliveries.tenant_id AND r.replay_of = webhook_deliveries.id "
                "AND (r.status = 'pending' OR r.created_at >= now() - "
                "make_interval(days => :days)))"), {"days": days}).rowcount
            connection.execute(platform_audit_statement(
                "webhooks.purged", target_type="webhook_deliveries",
                after={"retention_days": days, "deliveries": deleted}))
    except OwnerRoleMissing as exc:
        fail(str(exc))
    click.echo(f"webhook deliveries purged: {deleted} (delivered or dead, older than {days} "
               "days)")
