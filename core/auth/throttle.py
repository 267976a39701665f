"""Login throttling: too many failed logins for one account answer 429 for a while.

Counters live in the database (``login_throttle``), so every worker and pod shares them. They
are keyed by a SHA-256 of (scope, e-mail): the scope is the tenant id or "platform". A failure
is kept although the login answers 401: ``keep_work_on_error`` asks the request's one commit
(core/pipeline.py) to commit it anyway, on the request's own connection (a second pooled
connection could wait forever on a bounded pool). The login has written nothing else by then.
Locking an account name (not an IP) is deliberate: it stops password guessing against one
account from any number of addresses; the lock is short so it cannot deny service for long.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text

from core.errors import DomainError
from core.extensions import db
from core.models import LoginThrottle
from core.pipeline import keep_work_on_error

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)

# Times are bound from Python: a distributed PostgreSQL (Citus) refuses functions that are not
# IMMUTABLE, such as now(), in the DO UPDATE SET of an upsert (docs/scale-out.md).
_RECORD_FAILURE = text("""
    INSERT INTO login_throttle (key, failures, window_started_at)
    VALUES (:key, 1, :now)
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN login_throttle.window_started_at < :window_start
                        THEN 1 ELSE login_throttle.failures + 1 END,
        window_started_at = CASE WHEN login_throttle.window_started_at < :window_start
                                 THEN :now ELSE login_throttle.window_started_at END
    RETURNING failures
""")


class TooManyAttempts(DomainError):
    status = 429


def throttle_key(scope: str, email: str) -> str:
    return hashlib.sha256(f"{scope}\x1f{email.strip().lower()}".encode()).hexdigest()


def check_allowed(key: str) -> None:
    """429 with Retry-After while the account name is locked."""
    locked_until = db.session.execute(
        select(LoginThrottle.locked_until).where(LoginThrottle.key == key)).scalar()
    now = datetime.now(UTC)
    if locked_until is not None and locked_until > now:
        seconds = int((locked_until - now).total_seconds()) + 1
        raise TooManyAttempts("too many failed logins for this account; retry later",
                              headers={"Retry-After": str(seconds)})


def record_failure(key: str) -> None:
    """Count a failed login; the request commits it although it answers 401 or 429."""
    now = datetime.now(UTC)
    failures = db.session.execute(_RECORD_FAILURE, {"key": key, "now": now,
                                                    "window_start": now - WINDOW}).scalar()
    if failures >= MAX_FAILURES:
        db.session.execute(text(
            "UPDATE login_throttle SET locked_until = now() + :lock, failures = 0, "
            "window_started_at = now() WHERE key = :key"), {"key": key, "lock": LOCK})
    keep_work_on_error()


def record_success(key: str) -> None:
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
