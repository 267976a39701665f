"""``tenantry billing``: show and set a tenant's plan from the server's shell."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from core.sdk import Tenant, db, tenant_context
from plugins.billing import services
from plugins.billing.models import PLANS


def _tenant_id(slug: str):
    tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar()
    if tenant_id is None:
        raise click.ClickException(f"no tenant '{slug}'")
    return tenant_id


@click.group("billing")
def billing_group():
    """Tenants' billing plans and usage."""


@billing_group.command("set-plan")
@click.argument("slug")
@click.argument("plan", type=click.Choice(PLANS))
@with_appcontext
def set_plan_command(slug, plan):
    """Put tenant SLUG on the free or the paid plan."""
    tenant_id = _tenant_id(slug)
    with tenant_context(tenant_id):
        services.set_plan(tenant_id, plan, actor="cli")
        db.session.commit()
    click.echo(f"tenant {slug}: plan {plan}")


@billing_group.command("show")
@click.argument("slug")
@with_appcontext
def show_command(slug):
    """Show tenant SLUG's plan and usage."""
    tenant_id = _tenant_id(slug)
    with tenant_context(tenant_id):
        plan = services.get_plan(tenant_id)
        usage = services.usage(tenant_id)
        db.session.rollback()
    limit = current_app.config["FREE_TIER_LIMIT"]
    click.echo(f"tenant {slug}: plan {plan}, {usage.total_calls} calls "
               f"(free tier limit {limit}), {usage.last_24h_count} in the last 24 hours")
    for endpoint, calls in usage.calls_by_endpoint.items():
        click.echo(f"  {calls:>10}  {endpoint}")
