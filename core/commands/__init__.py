"""The operator commands of ``tenantry`` (core/cli.py registers them), one module per group:
``database`` (migrate-all, setup-db), ``serve``, ``tenants``, ``modules``, ``idempotency``,
``platform_admins``, ``bootstrap``. Commands are not requests: each commits its own work.

Shared here: ``fail`` (one line on stderr, exit 1), ``run_service`` (a service call
committed, or its domain error as that line) and ``run_worker`` (an outbox's command: one pass
now, or the ``--loop`` worker).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable

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


def run_worker(label: str, one_pass: Callable[[bool], int], *, loop: bool, interval: float,
               items: str) -> None:
    """An outbox's command (``tenantry pos retry-fiscal``, ``tenantry webhooks deliver``).

    Without ``loop``: ``one_pass(due_only=False)`` sends everything waiting now, and the
    command exits 1 while ``items`` are still pending (so monitoring notices). With ``loop``:
    the worker, ``one_pass(due_only=True)`` every ``interval`` seconds (what is due; failures
    wait their backoff) until SIGTERM or Ctrl-C, which end it after the current pass.
    ``one_pass`` returns how many items are still pending.
    """
    if not loop:
        left = one_pass(False)
        click.echo(f"{label}: done, {left} {items} still pending")
        if left:
            sys.exit(1)
        return
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo(f"{label}: worker started, a pass every {interval:g} s")
    try:
        while not stopping:
            one_pass(True)
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    click.echo(f"{label}: worker stopped")
