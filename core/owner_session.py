"""A short database session on the owner role, for the platform writes the app role may not make.

The app role (DATABASE_URL) only reads ``platform_users`` (migration c0a1f0000006): SQL that
reaches the database through the API, by a bug or an injection, cannot add a platform admin or
set one's password. Operators add admins and set passwords with ``tenantry platform-admins``,
which runs on their machine with the migration credentials (MIGRATION_DATABASE_URL), like
``tenantry migrate-all``. The session uses its own engine without a pool: it lives for one
command. ``owner_connection`` is the same for commands that work in plain SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool


class OwnerRoleMissing(RuntimeError):
    """MIGRATION_DATABASE_URL is not set (or is the app role's URL)."""


def _owner_url() -> str:
    url = current_app.config.get("MIGRATION_DATABASE_URL")
    if not url or url == current_app.config.get("DATABASE_URL"):
        raise OwnerRoleMissing(
            "this command writes what only the owner role may change: set "
            "MIGRATION_DATABASE_URL (the URL tenantry migrate-all uses)")
    return url


@contextmanager
def owner_session() -> Iterator[Session]:
    """A session as the owner role; the caller commits."""
    engine = create_engine(_owner_url(), poolclass=NullPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def owner_connection() -> Iterator[Connection]:
    """A connection as the owner role in one transaction, committed when the block ends and
    rolled back if it raises: erasure, import and retention purges (core/module_purge.py,
    core/tenant_erasure.py, core/tenant_import.py, ``tenantry audit purge``)."""
    engine = create_engine(_owner_url(), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()
