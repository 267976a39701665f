"""A short database session on the owner role, for the platform writes the app role may not make.

The app role (DATABASE_URL) only reads ``platform_users`` (migration c0a1f0000006): SQL that
reaches the database through the API, by a bug or an injection, cannot add a platform admin or
set one's password. Operators add admins and set passwords with ``tenantry platform-admins``,
which runs on their machine with the migration credentials (MIGRATION_DATABASE_URL), like
``tenantry migrate-all``. The session uses its own engine without a pool: it lives for one
command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool


class OwnerRoleMissing(RuntimeError):
    """MIGRATION_DATABASE_URL is not set (or is the app role's URL)."""


@contextmanager
def owner_session() -> Iterator[Session]:
    """A session as the owner role; the caller commits."""
    url = current_app.config.get("MIGRATION_DATABASE_URL")
    if not url or url == current_app.config.get("DATABASE_URL"):
        raise OwnerRoleMissing(
            "this command writes platform tables, which only the owner role may change: set "
            "MIGRATION_DATABASE_URL (the URL tenantry migrate-all uses)")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
