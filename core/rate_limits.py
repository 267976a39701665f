"""Request rate limits: quotas per tenant, API key, user and client address, shared by every
worker and node (issue 18; docs/security.md, "Rate limits").

Every request with a host (not ``/healthz``, ``/readyz`` or the API docs) counts against:

- its **tenant**, its **API key** or its **user** (tenant JWT or console session), with the
  quotas of the tenant's plan: ``RATE_LIMITS_FREE`` when billing says the tenant is on the
  free plan (the ``tenantry_rate_limit_plan`` hook), ``RATE_LIMITS`` otherwise;
- its **client address** when it carries no credentials (logins, bootstrap, anonymous calls):
  ``RATE_LIMIT_ANONYMOUS``. Platform admins count per admin with ``RATE_LIMITS``' user quota.

Fixed windows of ``RATE_LIMIT_WINDOW_SECONDS``. All the request's counters move in **one
statement** (a multi-row upsert in key order, so two requests never deadlock) on a pooled
connection of its own in autocommit, so the counter rows are locked for that statement only,
never for the request; the table is UNLOGGED, so the increment does not wait for the disk.
The tenant's plan comes from a per-process cache checked against the tenant's
``state_version`` (``Tenancy.rate_limit_plan``: billing bumps the version when a plan changes).

The decision before the view reads the shared counters only when it must: the increment
returns each counter's new value, which the process keeps for the window (``_Estimates``: a
lower bound, since counts only grow within a window). While every counter of a request is
known and more than ``_margin(quota)`` below its quota, the request is decided on those
values without a statement; a counter not yet seen by this process in this window, or one
near its quota, is read. So near a quota every decision is exact, and far from it a process
can only lag: each process may admit at most one request too many per counter and window
(the one whose increment tells it the quota is used up).

Over a quota: 429 before the view (nothing of the request runs), ``Retry-After`` (seconds to
the end of the window) and the IETF draft's headers, on every counted answer::

    RateLimit-Policy: "tenant";q=6000;w=60, "api_key";q=3000;w=60
    RateLimit: "api_key";r=2990;t=42

``RateLimit`` names the policy nearest its limit: ``r`` requests remain, the window ends in
``t`` seconds. Keys are SHA-256 digests of "kind|id": no key, e-mail or address is stored.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Response, current_app, g
from sqlalchemy import Engine, bindparam, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from core.app_state import app_state
from core.client_address import client_address
from core.engine import engine_options
from core.errors import DomainError
from core.extensions import db
from core.pool_check import install_checkout_check
from core.tenancy import tenancy

log = logging.getLogger("tenantry.rate_limits")
_PRUNE_CHANCE = 0.001  # one request in a thousand removes the counters of past windows
_PRUNE = text("DELETE FROM rate_limit_counters WHERE window_start < :before")
_STATE = "tenantry_rate_limits"
_ENGINE = "rate_limit_engine"
_KNOWN = "rate_limit_estimates"
# A counter is read, not estimated, within this many requests of its quota: a tenth of the
# quota, at least 10 (so the small quotas of tests and of the anonymous limit are always exact).
_MARGIN_SHARE, _MARGIN_MIN = 10, 10


class RateLimited(DomainError):
    status = 429


@dataclass(frozen=True)
class Policy:
    name: str  # tenant | api_key | user | address
    key: str  # the digest counted
    quota: int


@dataclass(frozen=True)
class Counted:
    policy: Policy
    hits: int


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()


def _plan(tenant_id) -> str | None:
    return tenancy().rate_limit_plan(tenant_id, lambda: app_state().registry.hook
                                     .tenantry_rate_limit_plan(tenant_id=tenant_id))


def _policies() -> list[Policy]:
    config, identity, tenant = current_app.config, g.get("identity"), g.get("tenant")
    if identity is None:
        quota = config["RATE_LIMIT_ANONYMOUS"]
        return [Policy("address", _digest("address", client_address()), quota)] if quota else []
    quotas = config["RATE_LIMITS"]
    if tenant is not None and identity.is_tenant and _plan(tenant.id) == "free":
        quotas = config["RATE_LIMITS_FREE"]
    policies = []
    if tenant is not None and identity.is_tenant:
        policies.append(Policy("tenant", _digest("tenant", str(tenant.id)), quotas["tenant"]))
    kind = "api_key" if identity.kind == "api_key" else "user"
    policies.append(Policy(kind, _digest(identity.kind, identity.subject_id), quotas[kind]))
    return policies


def _counter_engine() -> Engine:
    """This app's small autocommit pool for the counters (per process: created on first use,
    after the fork). Dead connections are replaced at checkout (``core.pool_check``); a
    counter on a connection that dies after that fails open (below)."""
    objects = app_state().plugin_objects
    engine = objects.get(_ENGINE)
    if engine is None:
        options = {**engine_options(current_app.config),
                   "pool_size": 1, "max_overflow": 2, "isolation_level": "AUTOCOMMIT"}
        engine = objects[_ENGINE] = create_engine(db.engine.url, **options)
        install_checkout_check(engine)
    return engine


_READ = text("SELECT key, hits FROM rate_limit_counters WHERE key IN :keys "
             "AND window_start = :window").bindparams(bindparam("keys", expanding=True))


def _margin(quota: int) -> int:
    return max(_MARGIN_MIN, quota // _MARGIN_SHARE)


class _Estimates:
    """This process's last known value of each counter of the current window."""

    def __init__(self) -> None:
        self._window: datetime | None = None
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()

    def known(self, window_start: datetime, keys: list[str]) -> dict[str, int] | None:
        """The known values of all ``keys`` in this window, or None if one is not known."""
        with self._lock:
            if window_start != self._window:
                return None
            hits = {key: self._hits.get(key) for key in keys}
        return None if None in hits.values() else hits

    def learn(self, window_start: datetime, hits: dict[str, int]) -> None:
        with self._lock:
            if self._window is None or window_start > self._window:
                self._window, self._hits = window_start, {}  # a new window: forget the old
            if window_start == self._window:
                for key, value in hits.items():
                    self._hits[key] = max(value, self._hits.get(key, 0))


def _estimates() -> _Estimates:
    objects = app_state().plugin_objects
    known = objects.get(_KNOWN)
    if known is None:
        known = objects.setdefault(_KNOWN, _Estimates())
    return known


def _current_hits(policies: list[Policy], window_start: datetime) -> dict[str, int]:
    """Each policy's counter before this request: the known values while every one is far
    enough from its quota, else one read of the shared counters (see the module docstring)."""
    keys = [policy.key for policy in policies]
    known = _estimates().known(window_start, keys)
    if known is not None and all(policy.quota - known[policy.key] - 1 >= _margin(policy.quota)
                                 for policy in policies):
        return known
    hits = dict(db.session.execute(_READ, {"keys": keys, "window": window_start}).all())
    _estimates().learn(window_start, hits)
    return hits


@dataclass(frozen=True)
class _Pending:
    """What this request counts once it is over (``count_request``)."""

    counted: list[Counted]  # the hits with this request included
    window_start: datetime
    window: int
    reset: int


# Every counter of a request in one statement, in key order (two requests sharing counters
# cannot deadlock); fixed text, built and compiled once, the keys as an array.
_INCREMENT = text("""
    INSERT INTO rate_limit_counters AS c (key, window_start, hits)
    SELECT key, :window, 1 FROM unnest(CAST(:keys AS varchar[])) AS key ORDER BY key
    ON CONFLICT (key, window_start) DO UPDATE SET hits = c.hits + 1
    RETURNING key, hits""")


def _increment(policies: list[Policy], window_start: datetime) -> None:
    keys = sorted(policy.key for policy in policies)
    with _counter_engine().connect() as connection:
        _estimates().learn(window_start, dict(connection.execute(
            _INCREMENT, {"keys": keys, "window": window_start}).all()))
        if random.random() < _PRUNE_CHANCE:
            connection.execute(_PRUNE, {"before": window_start - timedelta(
                seconds=current_app.config["RATE_LIMIT_WINDOW_SECONDS"])})


def check_rate_limits() -> None:
    """429 when a quota is used up (core.pipeline, before the view): decided on the counters'
    known values, or on one read of them in the request's transaction when one is unknown or
    near its quota; the increment comes after (``count_request``)."""
    config = current_app.config
    if not config["RATE_LIMIT_ENABLED"]:
        return
    policies = _policies()
    if not policies:
        return
    window = config["RATE_LIMIT_WINDOW_SECONDS"]
    now = datetime.now(UTC)
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, UTC)
    hits = _current_hits(policies, start)
    counted = [Counted(policy, hits.get(policy.key, 0) + 1) for policy in policies]
    reset = max(1, int((start + timedelta(seconds=window) - now).total_seconds() + 0.999))
    g.setdefault(_STATE, _Pending(counted, start, window, reset))
    over = [entry for entry in counted if entry.hits > entry.policy.quota]
    if over:
        names = ", ".join(entry.policy.name for entry in over)
        raise RateLimited(f"rate limit exceeded ({names}); retry after {reset} s",
                          headers={"Retry-After": str(reset)})


def count_request() -> None:
    """Count the request once its own transaction is over (core.pipeline, after the commit):
    it must hold no connection while the counter takes one, or behind pgbouncer with a small
    pool every request could hold a server connection while waiting for another."""
    pending = g.get(_STATE)
    if pending is None:
        return
    if db.session().in_transaction():
        db.session.rollback()  # an error answer: nothing of it is kept (teardown would too)
    try:
        _increment([entry.policy for entry in pending.counted], pending.window_start)
    except SQLAlchemyError:
        # Fail open: a limiter must not turn an answer into an error; a dead pooled
        # connection is replaced.
        log.warning("rate limits not counted: the counter statement failed", exc_info=True)


def add_rate_limit_headers(response: Response) -> None:
    """The IETF draft's headers on every answer of a counted request (429s included)."""
    pending = g.get(_STATE)
    if pending is None:
        return
    counted, window, reset = pending.counted, pending.window, pending.reset
    response.headers["RateLimit-Policy"] = ", ".join(
        f'"{entry.policy.name}";q={entry.policy.quota};w={window}' for entry in counted)
    nearest = min(counted, key=lambda entry: entry.policy.quota - entry.hits)
    remaining = max(0, nearest.policy.quota - nearest.hits)
    response.headers["RateLimit"] = f'"{nearest.policy.name}";r={remaining};t={reset}'
