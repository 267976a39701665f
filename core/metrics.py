"""Prometheus metrics: what every request, the database pool and the modules report, and the
``/metrics`` endpoint that exposes them (docs/operations.md, "Workers, memory and metrics").

Two kinds of values:

- **Per process** (requests, latencies, 402/429 answers, idempotent replays, the pool): kept by
  prometheus-client. Under gunicorn each worker is its own process, so ``deploy/gunicorn.conf.py``
  sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start: every worker then writes its values
  to files there and a scrape, answered by whichever worker, adds up all of them. Without it (the
  development server, tests) the default registry of the one process is served.
- **Read from the database at scrape time** (e.g. POS fiscal registrations pending, across
  tenants): collectors that plugins return from ``tenantry_metrics_collectors``, run by the worker
  that answers the scrape, inside its request transaction.

Labels are bounded: a module (plugin key, or the blueprint name for core's routes), the endpoint
name (registered routes only; ``none`` when no route matched), the method (``other`` for
anything non-standard) and the status class. Never a raw path, a tenant or a caller.

Exposure: never on a host in the tenants' domain (``*.ROOT_DOMAIN`` other than a platform host:
404). With ``METRICS_TOKEN`` set, every other host needs ``Authorization: Bearer <token>``;
without it, platform hosts and hosts outside ``ROOT_DOMAIN`` (a pod IP, the Service name) are
served, which is what Prometheus scrapes.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from core.app_state import app_state
from core.blueprint import hostless
from core.errors import error_response
from core.extensions import db
from core.guards import GUARD_NONE, GUARD_PLATFORM, GUARD_TENANT
from core.tenancy import PLATFORM, classify_host

log = logging.getLogger("tenantry.metrics")

METRICS_PATH = "/metrics"
REPLAYED_HEADER = "Idempotent-Replayed"  # set by core.idempotency on a stored response

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NO_ROUTE = "none"
_CORE_GUARDS = frozenset({GUARD_PLATFORM, GUARD_TENANT, GUARD_NONE})
_REFUSALS = {402: "402", 429: "429"}

# --------------------------------------------------------------------------- the metrics
# Module-level, as prometheus-client expects: one set per process, whatever the number of apps
# (tests build many); each app's hooks add to the same series.

REQUESTS = Counter(
    "tenantry_http_requests", "Requests answered, by module, endpoint, method and status class",
    ["module", "endpoint", "method", "status_class"])
LATENCY = Histogram(
    "tenantry_http_request_duration_seconds",
    "Time from the first request hook to teardown, by module and method",
    ["module", "method"],
    # Up to gunicorn's worker timeout (30 s); database statements stop at 5 s by default.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
REFUSED = Counter(
    "tenantry_http_refused", "402 (free tier exhausted) and 429 (rate limited) answers",
    ["module", "status"])
REPLAYS = Counter(
    "tenantry_idempotent_replays",
    "Stored responses sent again for a repeated Idempotency-Key (Idempotent-Replayed: true)",
    ["module"])

# Pool gauges are per worker; a scrape adds up the live workers (dead ones drop out).
POOL_SIZE = Gauge("tenantry_db_pool_size", "Connections the workers' pools keep (DB_POOL_SIZE)",
                  multiprocess_mode="livesum")
POOL_CONNECTIONS = Gauge("tenantry_db_pool_connections", "Database connections open",
                         multiprocess_mode="livesum")
POOL_CHECKED_OUT = Gauge("tenantry_db_pool_checked_out", "Connections in use by a request",
                         multiprocess_mode="livesum")
POOL_OVERFLOW = Gauge("tenantry_db_pool_overflow",
                      "Connections open beyond DB_POOL_SIZE (at most DB_MAX_OVERFLOW per worker)",
                      multiprocess_mode="livesum")
POOL_WAITS = Counter(
    "tenantry_db_pool_waits",
    "Checkouts that found no idle connection and no room to open one, and had to wait")
POOL_TIMEOUTS = Counter(
    "tenantry_db_pool_timeouts", "Checkouts that gave up after DB_POOL_TIMEOUT (answered 503)")
POOL_CHECKOUT_SECONDS = Histogram(
    "tenantry_db_pool_checkout_seconds",
    "Time to obtain a usable connection: waiting for one, opening one, the liveness check",
    buckets=(0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0))


# --------------------------------------------------------------------------- request hooks


def _module_of(blueprint: str | None) -> str:
    """The module a blueprint belongs to: its plugin's key, else (core) its own name."""
    if blueprint is None:
        return "core"
    guard = app_state().guards.get(blueprint, GUARD_NONE)
    return blueprint if guard in _CORE_GUARDS else guard


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _note_response(response: Response) -> Response:
    # The last call wins: an after_request that fails makes Flask build a 500 and run the
    # after_request hooks again.
    g.metrics_status = response.status_code
    g.metrics_replayed = response.headers.get(REPLAYED_HEADER) == "true"
    return response


# (blueprint, endpoint, method, status class) -> (module, counter child, histogram child): the
# label look-up is most of the per-request cost, and the key space is bounded like the labels.
# A blueprint name means the same module in every app of the process (tests build many).
_SERIES: dict[tuple, tuple] = {}


def _series(blueprint: str | None, endpoint: str | None, method: str, status_class: int):
    module = _module_of(blueprint) if endpoint else _NO_ROUTE
    return (module, REQUESTS.labels(module, endpoint or _NO_ROUTE, method, f"{status_class}xx"),
            LATENCY.labels(module, method))


def _count_request(exc: BaseException | None) -> None:
    # Teardown runs exactly once per request, also when a view or another hook raised (the
    # client then got a 500, or the server's error page).
    started = g.pop("metrics_started", None)
    status = 500 if exc is not None else g.pop("metrics_status", 500)
    endpoint = request.endpoint
    method = request.method if request.method in _METHODS else "other"
    key = (request.blueprint, endpoint, method, status // 100)
    series = _SERIES.get(key)
    if series is None:
        series = _SERIES[key] = _series(*key)
    module, requests, latency = series
    requests.inc()
    if started is not None:
        latency.observe(time.perf_counter() - started)
    if status in _REFUSALS:
        REFUSED.labels(module, _REFUSALS[status]).inc()
    if g.pop("metrics_replayed", False) and exc is None:
        REPLAYS.labels(module).inc()


# --------------------------------------------------------------------------- the pool


class _PoolCounts:
    """Open connections of one engine's pool, to keep the overflow gauge a sum of deltas (each
    process may have several engines: tests build many apps)."""

    def __init__(self, size: int) -> None:
        self.size, self.open, self.overflow = size, 0, 0
        self.lock = threading.Lock()

    def opened(self, delta: int) -> None:
        with self.lock:
            self.open += delta
            overflow = max(0, self.open - self.size)
            POOL_CONNECTIONS.inc(delta)
            POOL_OVERFLOW.inc(overflow - self.overflow)
            self.overflow = overflow


def _time_checkouts(pool, max_overflow: int) -> None:
    """Wrap this pool's ``connect``: SQLAlchemy has no event *before* a checkout, which is
    where a request waits when the pool is exhausted."""
    connect = pool.connect
    bounded = hasattr(pool, "checkedin") and hasattr(pool, "overflow")

    def timed_connect():
        # QueuePool waits exactly when no connection is idle and no overflow room is left.
        if bounded and pool.checkedin() == 0 and pool.overflow() >= max_overflow:
            POOL_WAITS.inc()
        started = time.perf_counter()
        try:
            return connect()
        except PoolTimeoutError:
            POOL_TIMEOUTS.inc()
            raise
        finally:
            POOL_CHECKOUT_SECONDS.observe(time.perf_counter() - started)

    pool.connect = timed_connect


def _instrument_engine(engine, max_overflow: int) -> None:
    pool = engine.pool
    size = pool.size() if hasattr(pool, "size") else 0
    counts = _PoolCounts(size)
    POOL_SIZE.inc(size)
    # Connections made before these listeners (start-up checks) will be closed and checked in
    # under them: count them now so that the gauges never go below the truth.
    if hasattr(pool, "checkedin") and hasattr(pool, "checkedout"):
        counts.opened(pool.checkedin() + pool.checkedout())
        POOL_CHECKED_OUT.inc(pool.checkedout())
    _time_checkouts(pool, max_overflow)

    # Pool events are registered on the engine, so they follow it to the new pool that
    # ``engine.dispose()`` creates; the connect wrapper is put on that pool again.
    event.listen(engine, "engine_disposed", lambda e: _time_checkouts(e.pool, max_overflow))
    event.listen(engine, "checkout", lambda *_: POOL_CHECKED_OUT.inc())
    event.listen(engine, "checkin", lambda *_: POOL_CHECKED_OUT.dec())
    event.listen(engine, "connect", lambda *_: counts.opened(1))
    event.listen(engine, "close", lambda *_: counts.opened(-1))
    event.listen(engine, "detach", lambda *_: counts.opened(-1))  # no longer the pool's


# --------------------------------------------------------------------------- /metrics


def _tenant_domain_host() -> bool:
    """A host that names (or could name) a tenant: ``ROOT_DOMAIN`` and its subdomains, except
    the platform hosts."""
    config = current_app.config
    match = classify_host(request.host, config["ROOT_DOMAIN"], config["PLATFORM_HOSTS"],
                          config["RESERVED_SUBDOMAINS"])
    if match.kind == PLATFORM:
        return False
    host = request.host.lower()
    host = host if host.startswith("[") else host.rsplit(":", 1)[0]
    host, root = host.rstrip("."), config["ROOT_DOMAIN"]
    return bool(root) and (host == root or host.endswith("." + root))


def _authorized() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def exposition(app: Flask) -> bytes:
    """Every metric in the Prometheus text format: this process's (or all workers') values,
    then what plugins read from the database now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    live = CollectorRegistry()
    for collectors in app_state(app).registry.hook.tenantry_metrics_collectors(app=app):
        for collector in collectors or ():
            live.register(collector)
    return generate_latest(registry) + generate_latest(live)


@hostless
def metrics_view():
    if _tenant_domain_host():
        return error_response(404, "not found")
    if not _authorized():
        return error_response(401, "send Authorization: Bearer <METRICS_TOKEN>")
    return Response(exposition(current_app), mimetype=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask) -> None:
    """Register /metrics, the request hooks and the pool instrumentation on ``app``.

    Call before the request pipeline: before_request hooks run in registration order and
    after_request hooks in reverse, so the timer starts first and the status seen is final.
    """
    app.before_request(_start_timer)
    app.after_request(_note_response)
    app.teardown_request(_count_request)
    app.add_url_rule(METRICS_PATH, endpoint="metrics", view_func=metrics_view, methods=["GET"])
    max_overflow = app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("max_overflow", 10)
    with app.app_context():
        _instrument_engine(db.engine, max_overflow)
