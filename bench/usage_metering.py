"""What usage metering costs: per-request time with and without billing's counters, the cost
of the counter upsert alone, and the usage report at millions of calls.

    python bench/usage_metering.py [--requests 2000] [--no-fsync]

Runs on its own embedded PostgreSQL (fsync on by default: metering turns read-only GETs into
writing transactions, whose commit waits for the WAL flush — the real cost on real disks).
In-process (Flask test client), so the numbers are the server's work without network or
WSGI server overhead. Prints a small table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from core import create_app
from core.auth.apikey_services import create_key
from core.embedded import EmbeddedPostgres
from core.extensions import db
from core.modules import disable_module
from core.rls import tenant_context
from core.schema_migrations import migrate_all
from core.tenant_lifecycle import create_tenant
from plugins.billing import services

HOST = "localhost"


def _app(server):
    return create_app({
        "TENANTRY_ENV": "test", "INSTANCE_PATH": Path(tempfile.mkdtemp()),
        "DATABASE_URL": server.app_url, "MIGRATION_DATABASE_URL": server.owner_url,
        "JWT_SECRET": "bench-" + "x" * 40, "ROOT_DOMAIN": "bench.test",
        "PLATFORM_HOSTS": HOST, "RESERVED_SUBDOMAINS": "www",
        "FIRST_OWNER_EMAIL": "bench@bench.test", "FIRST_OWNER_PASSWORD": "bench-password",
        "TENANT_CACHE_TTL": 60, "LOG_LEVEL": "WARNING", "TESTING": True,
    })


def _tenant(app, *, metered: bool) -> str:
    with app.app_context():
        tenant = create_tenant(slug=f"b{uuid.uuid4().hex[:10]}", name="bench",
                               modules={"cases": {}})
        tenant_id = tenant.id
        if not metered:
            disable_module(tenant_id, "billing", by_platform=True)
        else:
            with tenant_context(tenant_id):
                services.set_plan(tenant_id, "paid", actor="bench")
        raw = create_key(tenant_id, label="bench", role="admin").raw
        db.session.commit()
    return raw


def _paired_requests(client, metered: str, unmetered: str, count: int):
    """Per-request times (ms), alternating the two tenants request by request so that load
    from anything else on the machine hits both arms alike; medians resist the spikes."""
    arms = {metered: [], unmetered: []}
    for _ in range(count):
        for key, times in arms.items():
            started = time.perf_counter()
            response = client.get("/cases?page_size=1", headers={"X-API-Key": key,
                                                                  "Host": HOST})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.json
    return arms[metered], arms[unmetered]


def _time_upserts(app, count: int) -> float:
    tenant_id = None
    with app.app_context():
        tenant_id = create_tenant(slug=f"u{uuid.uuid4().hex[:10]}", name="u").id
        db.session.commit()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            with tenant_context(tenant_id):
                services.record_call(tenant_id, "GET /bench")
                db.session.commit()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _time_report(app, server) -> tuple[float, int, int]:
    """/admin/usage's queries for a tenant with a month of hourly counters on 20 endpoints."""
    with app.app_context():
        tenant_id = create_tenant(slug=f"r{uuid.uuid4().hex[:10]}", name="r").id
        db.session.commit()
    from sqlalchemy import create_engine

    owner = create_engine(server.owner_url)
    with owner.begin() as connection:
        connection.execute(text("""
            INSERT INTO billing_usage_hourly (tenant_id, hour, endpoint, shard, calls)
            SELECT :t, date_trunc('hour', now()) - make_interval(hours => h),
                   'GET /endpoint/' || e, s, 7
              FROM generate_series(0, 24 * 30) h, generate_series(1, 20) e,
                   generate_series(0, 7) s"""), {"t": tenant_id})
        connection.execute(text("""
            INSERT INTO billing_usage_totals (tenant_id, endpoint, shard, calls)
            SELECT :t, 'GET /endpoint/' || e, s, 7 * (24 * 30 + 1)
              FROM generate_series(1, 20) e, generate_series(0, 7) s"""), {"t": tenant_id})
        connection.execute(text("ANALYZE billing_usage_hourly; ANALYZE billing_usage_totals"))
        rows = connection.execute(text(
            "SELECT count(*) FROM billing_usage_hourly WHERE tenant_id = :t"),
            {"t": tenant_id}).scalar()
    owner.dispose()
    with app.app_context(), tenant_context(tenant_id):
        services.usage(tenant_id)  # warm
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            usage = services.usage(tenant_id)
            timings.append(time.perf_counter() - started)
        db.session.rollback()
    return statistics.median(timings) * 1000, usage.total_calls, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--no-fsync", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tenantry-bench-", dir="/tmp"))
    server = EmbeddedPostgres(base, durable=not args.no_fsync).start()
    try:
        app = _app(server)
        with app.app_context():
            migrate_all(echo=lambda _line: None)
        metered, unmetered = _tenant(app, metered=True), _tenant(app, metered=False)
        client = app.test_client()
        _paired_requests(client, metered, unmetered, 50)  # warm caches and the pool
        with_ms, without_ms = _paired_requests(client, metered, unmetered, args.requests)
        upsert_ms = _time_upserts(app, args.requests)
        report_ms, report_calls, report_rows = _time_report(app, server)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    on, off = statistics.median(with_ms), statistics.median(without_ms)
    print(f"fsync: {'off' if args.no_fsync else 'on'}; {args.requests} GET /cases per arm, "
          "alternating; median ms per request")
    print(f"  {'billing off (no metering)':42} {off:8.3f} ms/request")
    print(f"  {'billing on (check + counter upsert)':42} {on:8.3f} ms/request")
    print(f"  {'metering cost':42} {on - off:8.3f} ms/request ({(on - off) / off:+.1%})")
    print(f"  {'counter statement + commit alone':42} {upsert_ms:8.3f} ms/call")
    print(f"  {'usage report':42} {report_ms:8.3f} ms for {report_calls:,} calls "
          f"in {report_rows:,} hourly rows")


if __name__ == "__main__":
    main()
