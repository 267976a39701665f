"""The operator commands of ``tenantry`` (core/cli.py registers them), one module per group:
``database`` (migrate-all, setup-db), ``serve``, ``tenants``, ``modules``, ``idempotency``,
``platform_admins``, ``bootstrap``. Commands are not requests: each commits its own work.

Shared here: ``fail`` (one line on stderr, exit 1) and ``run_service`` (a service call
committed, or its domain error as that line).
"""

from __future__ import annotations

import sys

import click

from core.extensions import db


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def run_service(action, session=None):
    """``action()`` committed (on ``session``, by default the app's); a domain error rolls back
    and becomes the command's error."""
    from core.errors import DomainError

    session = session if session is not None else db.session
    try:
        result = action()
        session.commit()
    except DomainError as exc:
        session.rollback()
        details = "; ".join(f"{field}: {', '.join(map(str, messages))}"
                            for field, messages in (exc.errors or {}).items())
        fail(f"{exc.message}" + (f" ({details})" if details else ""))
    return result
