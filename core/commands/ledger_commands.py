"""``tenantry ledger verify``: walk every hash chain of every tenant (or one) and report the
first break of each; exit 1 when any chain is broken, so cron and monitoring notice.

Each tenant is walked in its own transaction under its own tenant (RLS), as the app role: the
command sees what the API would. It prints each chain's head hash: recorded somewhere the
database's owner cannot write (a log shipped off the host, a printed Z report), it exposes a
chain rewritten from end to end later (docs/security.md, "Ledger").
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from core.extensions import db


@click.group("ledger")
def ledger_group():
    """Hash-chained records: receipts, refunds, shift closings, stock moves."""


@ledger_group.command("verify")
@click.option("--tenant", "slug", default=None, help="Only this tenant (slug).")
@click.option("--chain", "chain_name", default=None,
              help="Only this chain (e.g. pos_receipts, stock_moves).")
@with_appcontext
def ledger_verify(slug, chain_name):
    """Walk the chains and report the first break of each (exit 1 if any)."""
    from core.app_state import app_state
    from core.ledger import chains_of, verify
    from core.models import Tenant
    from core.rls import tenant_context
    from core.tenancy import module_state

    registry = app_state(current_app).registry
    chains = [c for c in chains_of(registry) if chain_name in (None, c.name)]
    if chain_name and not chains:
        known = ", ".join(sorted(c.name for c in chains_of(registry)))
        raise click.ClickException(f"no chain '{chain_name}'; chains: {known}")
    statement = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
    if slug:
        statement = statement.where(Tenant.slug == slug)
    tenants = db.session.execute(statement).all()
    db.session.rollback()
    if slug and not tenants:
        raise click.ClickException(f"no tenant '{slug}'")
    owners = {c.name: key for key, module in registry.modules.items()
              for c in getattr(module, "ledger_chains", ())}
    broken = walked = 0
    for tenant_id, tenant_slug in tenants:
        with tenant_context(tenant_id):
            for chain in chains:
                if not module_state(tenant_id, owners[chain.name]).enabled:
                    continue
                report = verify(chain, tenant_id)
                walked += 1
                broken += 0 if report.ok else 1
                _echo(tenant_slug, report)
            db.session.rollback()
    click.echo(f"ledger verify: {walked} chain(s) walked, {broken} broken")
    if broken:
        sys.exit(1)


def _echo(slug: str, report) -> None:
    from core.ledger import TENANT_WIDE

    if not report.scopes and not report.unchained:
        click.echo(f"tenant {slug}: {report.chain}: empty")
    for scope in report.scopes:
        where = "" if scope.scope_id == TENANT_WIDE else f" [{scope.scope_id}]"
        if scope.ok:
            click.echo(f"tenant {slug}: {report.chain}{where}: {scope.entries} entries ok, "
                       f"head {scope.head_hash}")
        else:
            click.echo(f"tenant {slug}: {report.chain}{where}: BROKEN at entry "
                       f"{scope.broken_at} (document {scope.document_id}): {scope.reason}")
    if report.unchained:
        click.echo(f"tenant {slug}: {report.chain}: BROKEN: {report.unchained} document(s) "
                   "have no entry in the chain")
