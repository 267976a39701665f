"""``tenantry idempotency purge``: delete expired Idempotency-Key records of every tenant."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


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
