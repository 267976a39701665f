"""``tenantry audit purge``: delete audit events (tenant and platform) older than
AUDIT_RETENTION_DAYS, as the owner role.

The audit tables refuse UPDATE, DELETE and TRUNCATE for everyone (migration c0a1f0000009),
except a DELETE in a transaction that set ``tenantry.audit_retention_purge`` to ``on``: this
command's, as the owner role (the app role has no DELETE on them at all). It records what it
deleted in the platform audit log, in the same transaction.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("audit")
def audit_group():
    """The audit log: retention."""


@audit_group.command("purge")
@with_appcontext
def audit_purge():
    """Delete audit events older than AUDIT_RETENTION_DAYS, for every tenant (run it daily)."""
    from sqlalchemy import text

    from core.audit import platform_audit_statement
    from core.commands import fail
    from core.owner_session import OwnerRoleMissing, owner_connection

    days = current_app.config["AUDIT_RETENTION_DAYS"]
    try:
        with owner_connection() as connection:
            connection.execute(text("SELECT set_config('tenantry.audit_retention_purge', 'on', "
                                    "true)"))
            deleted = {}
            for table in ("audit_events", "platform_audit_events"):
                deleted[table] = connection.execute(text(
                    f"DELETE FROM {table} "  # noqa: S608 - a fixed table name
                    "WHERE occurred_at < now() - make_interval(days => :days)"),
                    {"days": days}).rowcount
            connection.execute(platform_audit_statement(
                "audit.purged", target_type="audit_log", after={
                    "retention_days": days, "tenant_events": deleted["audit_events"],
                    "platform_events": deleted["platform_audit_events"]}))
    except OwnerRoleMissing as exc:
        fail(str(exc))
    click.echo(f"audit events purged: {deleted['audit_events']} tenant, "
               f"{deleted['platform_audit_events']} platform (older than {days} days)")
