"""Warn when the app talks to a transaction pooler it was not told about.

Behind pgbouncer in ``pool_mode=transaction`` the app must run with
``DATABASE_POOLER=transaction`` (core/engine.py turns psycopg's server-side prepared
statements off): psycopg prepares a statement after five uses on one connection, and the next
transaction may run on another server connection, which answers ``DuplicatePreparedStatement``
(SQLSTATE 42P05) or ``InvalidSqlStatementName`` (26000) — a 500 for the client. An operator who
put pgbouncer in front of PostgreSQL and forgot the setting should learn it from the log, not
from a share of failed requests.

What this looks at, never on the request path (its per-request cost is zero):

- **a new pooled connection** (the engine's ``connect`` event, once per connection, i.e. a few
  times per worker life): PostgreSQL's own ``pg_backend_pid()`` compared with the process id the
  server announced at log-in. pgbouncer answers the log-in itself with a made-up id, so a
  difference means *some* pooler sits in between (session pooling is harmless, hence "if it
  pools transactions"). The same query in a second transaction answering another backend means
  the pooler hands out server connections per transaction: that is certain.
- **a database error** (the engine's ``handle_error`` event, which only runs on errors): 42P05
  or 26000 on a driver that prepares statements is the signature of a transaction pooler.

Each finding is logged once per process as a warning naming ``DATABASE_POOLER=transaction``.
Nothing is changed automatically: the setting is the operator's decision, and docs/operations.md
("pgbouncer") explains it. With the setting on, nothing is installed at all.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.app_state import app_state
from core.extensions import db

log = logging.getLogger("tenantry.pooler")

SETTING = "DATABASE_POOLER=transaction"
# SQLSTATEs of a prepared statement that exists on another server connection than the one the
# driver prepared it on (or does not exist on this one).
PREPARED_STATEMENT_SQLSTATES = {
    "42P05": "DuplicatePreparedStatement",
    "26000": "InvalidSqlStatementName",
}

# Findings, worst last; each is logged once per detector.
POOLER_IN_FRONT = "pooler"
TRANSACTION_POOLING = "transaction pooling"
PREPARED_STATEMENT_ERROR = "prepared statement error"


class PoolerDetector:
    """The listeners of one engine and the findings already reported."""

    def __init__(self) -> None:
        self.findings: set[str] = set()
        self._lock = threading.Lock()

    # -- reporting
    def report(self, finding: str, detail: str) -> None:
        with self._lock:
            if finding in self.findings:
                return
            self.findings.add(finding)
        if finding == POOLER_IN_FRONT:
            log.warning("database connections go through a connection pooler (%s); if it pools "
                        "transactions (pgbouncer pool_mode=transaction), set %s, or requests "
                        "will fail once the driver prepares statements", detail, SETTING)
        else:
            log.warning("a transaction pooler (pgbouncer pool_mode=transaction) is between the "
                        "app and PostgreSQL (%s): set %s so that the driver never prepares "
                        "statements", detail, SETTING)

    # -- listeners
    def on_connect(self, dbapi_connection, _connection_record) -> None:
        """Compare the announced backend pid with the real one, twice (two transactions)."""
        try:
            announced = dbapi_connection.info.backend_pid
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                first = cursor.fetchone()[0]
                dbapi_connection.rollback()
                cursor.execute("SELECT pg_backend_pid()")
                second = cursor.fetchone()[0]
                dbapi_connection.rollback()
        except Exception:
            log.debug("pooler probe failed", exc_info=True)
            with contextlib.suppress(Exception):
                dbapi_connection.rollback()
            return
        if first != second:
            self.report(TRANSACTION_POOLING,
                        f"two transactions of one connection ran on server processes {first} "
                        f"and {second}")
        elif announced != first:
            self.report(POOLER_IN_FRONT,
                        f"the server announced process {announced}, the session runs in {first}")

    def on_error(self, context) -> None:
        sqlstate = getattr(context.original_exception, "sqlstate", None)
        if sqlstate in PREPARED_STATEMENT_SQLSTATES:
            self.report(PREPARED_STATEMENT_ERROR,
                        f"{PREPARED_STATEMENT_SQLSTATES[sqlstate]}, SQLSTATE {sqlstate}")

    def listen(self, engine: Engine) -> None:
        event.listen(engine, "connect", self.on_connect)
        event.listen(engine, "handle_error", self.on_error)


def install_pooler_detector(app: Flask) -> PoolerDetector | None:
    """Watch ``app``'s engine for signs of a transaction pooler, unless the setting says so.

    Returns the detector (kept in ``app_state(app).pooler``) or None when
    DATABASE_POOLER=transaction already makes the driver safe behind one.
    """
    if app.config.get("DATABASE_POOLER") == "transaction":
        return None
    detector = PoolerDetector()
    with app.app_context():
        detector.listen(db.engine)
    app_state(app).pooler = detector
    return detector
