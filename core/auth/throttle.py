"""Login abuse: guessing is slowed where it comes from, and nobody can lock an owner out.

Three counters per failed login, in ``login_throttle`` (shared by every worker and node), each
keyed by a SHA-256 so no e-mail or address is stored, each counting within a 15-minute window:

- **account and client address**: after LOGIN_FREE_FAILURES failures, each further attempt from
  that address on that account waits 1 s, then 2 s, 4 s … at most 15 minutes (429 with
  ``Retry-After``). Other addresses are not slowed: a stranger cannot lock the owner out.
- **account, all addresses**: past LOGIN_ACCOUNT_MAX_FAILURES (a distributed guess), every
  address that has failed on the account waits out the window; an address with no failure on it
  (the owner's usual one) still gets through.
- **client address, all accounts**: past LOGIN_CLIENT_MAX_FAILURES (one address spraying many
  accounts), it gets 429 for the rest of the window.

``LoginAttempt.check`` reads the three rows in one statement *before* any password is hashed:
a refused client costs no argon2 (core/auth/hashing_pool.py bounds the hashes that do run). A
failure is kept although the login answers 401: ``keep_work_on_error`` asks the request's one
commit (core/pipeline.py) to commit it anyway, on the request's own connection. A success clears
the counters of that account (from that address and overall), not the address's own budget.
Times are bound from Python: Citus refuses now() in an upsert's DO UPDATE (docs/scale-out.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, text

from core.client_address import client_address
from core.errors import DomainError
from core.extensions import db
from core.pipeline import keep_work_on_error

WINDOW = timedelta(minutes=15)
MAX_DELAY = timedelta(minutes=15)

_READ = text("""
    SELECT key, failures, window_started_at, locked_until FROM login_throttle
     WHERE key IN :keys
""").bindparams(bindparam("keys", expanding=True))

_COUNT = text("""
    INSERT INTO login_throttle (key, failures, window_started_at)
    VALUES (:pair, 1, :now), (:account, 1, :now), (:client, 1, :now)
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN login_throttle.window_started_at < :window_start
                        THEN 1 ELSE login_throttle.failures + 1 END,
        window_started_at = CASE WHEN login_throttle.window_started_at < :window_start
                                 THEN :now ELSE login_throttle.window_started_at END,
        locked_until = CASE WHEN login_throttle.window_started_at < :window_start
                            THEN NULL ELSE login_throttle.locked_until END
    RETURNING key, failures
""")

_DELAY = text("UPDATE login_throttle SET locked_until = :until WHERE key = :key")

_CLEAR = text("DELETE FROM login_throttle WHERE key IN :keys").bindparams(
    bindparam("keys", expanding=True))


class TooManyAttempts(DomainError):
    status = 429


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class _Row:
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


class LoginAttempt:
    """One login of ``email`` in ``scope`` (a tenant id or "platform") from the current client."""

    def __init__(self, scope: str, email: str, address: str | None = None):
        account = f"{scope}\x1f{email.strip().lower()}"
        self.account_key = _digest("account", account)
        self.pair_key = _digest("pair", account, address or client_address())
        self.client_key = _digest("client", address or client_address())
        config = current_app.config
        self.free_failures = config.get("LOGIN_FREE_FAILURES", 5)
        self.account_max = config.get("LOGIN_ACCOUNT_MAX_FAILURES", 50)
        self.client_max = config.get("LOGIN_CLIENT_MAX_FAILURES", 100)

    def _rows(self, now: datetime) -> dict[str, _Row]:
        rows = db.session.execute(_READ, {"keys": [self.pair_key, self.account_key,
                                                   self.client_key]})
        return {key: _Row(failures, started, locked) for key, failures, started, locked in rows
                if started >= now - WINDOW}

    def check(self) -> None:
        """429 with Retry-After when this client must wait; nothing hashed yet."""
        now = datetime.now(UTC)
        rows = self._rows(now)
        client, pair, account = (rows.get(self.client_key), rows.get(self.pair_key),
                                 rows.get(self.account_key))
        if client is not None and client.failures >= self.client_max:
            self._refuse("too many failed logins from this address; retry later",
                         client.window_started_at + WINDOW, now)
        if pair is not None and pair.locked_until is not None and pair.locked_until > now:
            self._refuse("too many failed logins for this account from this address; "
                         "retry later", pair.locked_until, now)
        if account is not None and account.failures >= self.account_max and pair is not None:
            self._refuse("too many failed logins for this account; retry later",
                         account.window_started_at + WINDOW, now)

    @staticmethod
    def _refuse(message: str, until: datetime, now: datetime) -> None:
        seconds = max(1, int((until - now).total_seconds()) + 1)
        raise TooManyAttempts(message, headers={"Retry-After": str(seconds)})

    def failed(self) -> None:
        """Count the failure on all three keys (one statement); the request commits it although
        it answers 401."""
        now = datetime.now(UTC)
        counts = dict(db.session.execute(_COUNT, {
            "pair": self.pair_key, "account": self.account_key, "client": self.client_key,
            "now": now, "window_start": now - WINDOW}).all())
        over = counts[self.pair_key] - self.free_failures
        if over >= 0:
            delay = min(timedelta(seconds=2 ** min(over, 20)), MAX_DELAY)
            db.session.execute(_DELAY, {"key": self.pair_key, "until": now + delay})
        keep_work_on_error()

    def succeeded(self) -> None:
        db.session.execute(_CLEAR, {"keys": [self.pair_key, self.account_key]})
