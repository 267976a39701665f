"""Readiness of the schema: is core and every installed module at its migration head?

``schema_problems`` answers per branch why the schema cannot serve (missing, behind, or
unreadable by the app role), each reason naming the command that fixes it; the request pipeline
(``core.tenancy.require_schema_ready``), ``/readyz`` and the error handlers ask it, through a
per-app cache of TENANT_CACHE_TTL seconds. Applying migrations is ``core.schema_migrations``.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from core.app_state import app_state
from core.cache import TTLCache
from core.extensions import db
from core.models import ModuleRecord
from core.schema_migrations import (
    CORE_BRANCH,
    BranchState,
    branch_states_at,
    is_known_revision,
    revision_script,
)


def init_readiness(app: Flask) -> None:
    app_state(app).schema_cache = TTLCache(app.config["TENANT_CACHE_TTL"])


MIGRATE_COMMAND = "tenantry migrate-all"


def schema_problems() -> dict[str, str]:
    """Branch -> why it is not ready, for core and every installed module (empty = ready).

    ``core`` also speaks for the schema as a whole: missing (no migration ever ran), behind, or
    unreadable by the app role; each reason names the command that fixes it. Cached for
    TENANT_CACHE_TTL seconds; the request pipeline asks before every request but the probes.
    A database that does not answer raises (the caller's 503 says so).
    """

    def load() -> dict[str, str]:
        # The request's own connection: a second one per request would halve what the pool
        # can serve under load (alembic_version and modules are platform tables: no RLS).
        connection = db.session.connection()
        try:
            current = MigrationContext.configure(connection).get_current_heads()
            if not current and connection.execute(
                    text("SELECT to_regclass('alembic_version')")).scalar() is None:
                return {CORE_BRANCH: "the database schema is missing: no migration has been "
                                     f"applied; run `{MIGRATE_COMMAND}`"}
            states = branch_states_at(revision_script(), current)
            if not states[0].applied:
                # The modules table may not exist yet: core's state is the whole answer.
                return {CORE_BRANCH: _behind(states[0], current)}
            installed = set(connection.execute(select(ModuleRecord.key).where(
                ModuleRecord.installed_version.is_not(None))).scalars())
        except ProgrammingError as exc:
            # A half-built schema (a table or a grant missing): name it, do not answer 500.
            db.session.rollback()
            sqlstate = getattr(exc.orig, "sqlstate", None)
            return {CORE_BRANCH: f"the database schema is incomplete (SQLSTATE {sqlstate} "
                                 f"reading it as the app role); run `{MIGRATE_COMMAND}`"}
        return {state.branch: _behind(state, current) for state in states
                if not state.applied and state.branch in installed}

    cache: TTLCache = app_state().schema_cache
    return cache.get_or_load("problems", load)


def _behind(state: BranchState, current: tuple[str, ...]) -> str:
    message = f"migrations of '{state.branch}' are behind head {state.head}"
    unknown = sorted(rev for rev in current if not is_known_revision(revision_script(), rev))
    if state.branch == CORE_BRANCH and unknown:
        # Another plugin's branch, or a database migrated by newer code than this.
        message += (f" (the database also has revisions this code does not know: "
                    f"{', '.join(unknown)})")
    return message + f"; run `{MIGRATE_COMMAND}`"
