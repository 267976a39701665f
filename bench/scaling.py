"""Scaling runs (``--scaling``): what changes with the number of tenants.

1. Scenarios (a) and (c) at 10, 1,000 and 10,000 tenants, once with the same rows per tenant
   (``--products`` each) and once with the same total rows (tenants x products of the main
   data set, split evenly). Each data set is loaded into a fresh database and measured with
   as many wrk connections as gunicorn workers: a closed loop without queueing, so p50 is the
   time a request takes rather than the time it waits (the target compares p50s).
2. ``migrate-all`` at 10 and 10,000 tenants: a no-op (everything at head), then with one
   pending migration that adds a column to the shared ``products`` table
   (``bench.probe_plugin``), 5 times each (the column is dropped again between runs), median.
   Timed is ``migrate_all`` itself; the ``flask migrate-all`` command adds ~1-2 s of app
   start-up.
3. Tenant creation: ``core.tenant_lifecycle.create_tenant`` 1,000 times in a row (every installed
   module enabled, committed one by one, the platform API's work without the owner), then
   20 more with an owner, whose argon2id password hash is most of the cost.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench import report
from bench.dataset import DataSpec, load, migrate
from bench.postgres import BenchDatabase, Cluster
from bench.scenarios import SCENARIOS
from bench.servers import TENANTRY, running
from bench.settings import AppOptions, app_settings, create_app_config
from bench.wrk import run_wrk
from core.app_state import app_state

Echo = Callable[[str], None]
SCALING_SCENARIOS = ("list_products", "pos_receipt")


def _measure(database: BenchDatabase, spec: DataSpec, modules: set[str], workdir: Path, args,
             echo: Echo) -> dict:
    results = {}
    with running("tenantry-scaling", TENANTRY, app_settings(database), workdir,
                 workers=args.workers) as server:
        for key in SCALING_SCENARIOS:
            scenario = SCENARIOS[key]
            if scenario.module not in modules:
                continue
            common = {"seconds": args.duration, "connections": args.workers,
                      "products": spec.products}
            run_wrk(server.url, scenario.script, workdir / scenario.credentials,
                    **{**common, "seconds": args.warmup}, seed=5)
            result = run_wrk(server.url, scenario.script, workdir / scenario.credentials,
                             **common, seed=6)
            results[key] = {"rps": result.rps, "p50_ms": result.p50_ms,
                            "p99_ms": result.p99_ms,
                            "errors": result.non2xx + result.socket_errors}
            echo(f"  {key:<13} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
                 f"p99 {result.p99_ms:7.2f} ms  errors {results[key]['errors']}")
    return results


def _drop_probe_column(database: BenchDatabase) -> None:
    """Downgrade the probe branch (drops the column) so that it can be added again."""
    from alembic import command

    from bench import probe_plugin
    from core import create_app
    from core.extensions import db
    from core.schema_migrations import alembic_config

    config = create_app_config(database, AppOptions())
    config["EXTRA_PLUGINS"] = [("benchprobe", probe_plugin)]
    app = create_app(config)
    with app.app_context():
        command.downgrade(alembic_config(), "benchprobe@base")
        db.engine.dispose()


def _migrate_times(database: BenchDatabase, echo: Echo, repeats: int = 5) -> dict:
    """Median of ``repeats`` no-op runs and of ``repeats`` runs adding the column (dropped
    again between runs): single runs of ~0.1 s are at the mercy of the machine's noise."""
    from bench import probe_plugin

    quiet = lambda _line: None  # noqa: E731
    noop, added = [], []
    for _ in range(repeats):
        noop.append(migrate(database, quiet)[0])
        added.append(migrate(database, quiet, extra_plugins=[("benchprobe", probe_plugin)])[0])
        _drop_probe_column(database)
    result = {"noop_s": statistics.median(noop), "added_column_s": statistics.median(added),
              "noop_runs": noop, "added_column_runs": added}
    echo(f"  migrate-all (median of {repeats}): no-op {result['noop_s']:.3f} s, with an "
         f"added column {result['added_column_s']:.3f} s")
    return result


def _tenant_creation(database: BenchDatabase, echo: Echo, count: int = 1000,
                     with_owner: int = 20) -> dict:
    from core import create_app
    from core.extensions import db
    from core.tenant_lifecycle import create_tenant

    app = create_app(create_app_config(database, AppOptions()))
    timings: dict[str, list[float]] = {"without_owner": [], "with_owner": []}
    with app.app_context():
        modules = {key: {} for key, module in app_state(app).registry.modules.items()
                   if module.tenant_toggleable}
        for index in range(count + with_owner):
            owner = index >= count
            slug = f"new{index:05d}"
            started = time.perf_counter()
            create_tenant(slug=slug, name=f"New tenant {index}", modules=modules,
                          owner_email=f"owner@{slug}.test" if owner else None,
                          owner_password="bench-password-1" if owner else None)
            db.session.commit()
            timings["with_owner" if owner else "without_owner"].append(
                (time.perf_counter() - started) * 1000)
        db.engine.dispose()
    summary = {}
    for kind, values in timings.items():
        if values:
            ordered = sorted(values)
            summary[kind] = {"count": len(values), "median_ms": statistics.median(values),
                             "p90_ms": ordered[int(len(ordered) * 0.9) - 1],
                             "p95_ms": ordered[int(len(ordered) * 0.95) - 1],
                             "max_ms": ordered[-1]}
            echo(f"  create_tenant {kind}: {len(values)} in a row, median "
                 f"{summary[kind]['median_ms']:.1f} ms, p90 {summary[kind]['p90_ms']:.1f} ms, "
                 f"p95 {summary[kind]['p95_ms']:.1f} ms")
    return summary


def run_all(cluster: Cluster, args, workdir: Path, echo: Echo) -> dict:
    counts = tuple(int(n) for n in args.scaling_tenants.split(","))
    total = args.tenants * args.products
    shapes = []
    for tenants in counts:
        shapes.append(("same rows per tenant", tenants, args.products))
    for tenants in counts:
        shapes.append(("same total rows", tenants, max(3, total // tenants)))
    loaded: dict[tuple[int, int], dict] = {}
    rows = []
    results: dict = {"load": [], "migrate": {}, "create_tenant": {}}
    echo("")
    echo("## Scaling")
    for shape, tenants, products in shapes:
        if (tenants, products) not in loaded:
            spec = DataSpec(tenants=tenants, products=products, cases=5, sales=0)
            database = cluster.create_database("tenantry_scaling")
            echo(f"{shape}: {tenants} tenants x {products} products")
            load_result = load(database, spec, workdir, lambda _line: None)
            results["load"].append({"tenants": tenants, "products": products,
                                    "load_s": load_result.load_seconds,
                                    "vacuum_s": load_result.vacuum_seconds})
            echo(f"  loaded in {load_result.load_seconds:.1f} s "
                 f"(+ VACUUM ANALYZE {load_result.vacuum_seconds:.1f} s)")
            cluster.checkpoint()
            loaded[(tenants, products)] = _measure(database, spec, set(load_result.modules),
                                                   workdir, args, echo)
            if products == args.products and tenants in (counts[0], counts[-1]):
                results["migrate"][tenants] = _migrate_times(database, echo)
            if tenants == counts[0] and products == args.products:
                results["create_tenant"] = _tenant_creation(
                    database, echo, count=args.create_tenants)
            cluster.drop_database("tenantry_scaling")
        measured = loaded[(tenants, products)]
        for key, values in measured.items():
            rows.append({"shape": shape, "tenants": tenants, "products": products,
                         "scenario": key, **values})
    results["runs"] = rows
    _print(results, counts, echo)
    return results


def _print(results: dict, counts: tuple[int, ...], echo: Echo) -> None:
    echo("")
    table = [[r["shape"], f"{r['tenants']:,}", f"{r['products']:,}", r["scenario"],
              f"{r['rps']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", str(r["errors"])]
             for r in results["runs"]]
    for line in report.generic_table(["shape", "tenants", "products/tenant", "scenario",
                                      "req/s", "p50 ms", "p99 ms", "errors"], table):
        echo(line)
    echo("")
    for scenario in SCALING_SCENARIOS:
        same_total = {r["tenants"]: r for r in results["runs"]
                      if r["shape"] == "same total rows" and r["scenario"] == scenario}
        low, high = same_total.get(counts[0]), same_total.get(counts[-1])
        if low and high:
            ratio = high["p50_ms"] / low["p50_ms"]
            echo(f"{scenario}: p50 at {counts[-1]:,} tenants / at {counts[0]} "
                 f"tenants (same total rows) = {ratio:.3f} (target <= 1.10: "
                 f"{'met' if ratio <= 1.10 else 'MISSED'})")
    migrate = results["migrate"]
    if len(migrate) == 2:
        low, high = (migrate[counts[0]], migrate[counts[-1]])
        ratio = high["added_column_s"] / low["added_column_s"]
        noop_ok = max(low["noop_s"], high["noop_s"]) < 5
        echo(f"migrate-all no-op: {low['noop_s']:.2f} s / {high['noop_s']:.2f} s "
             f"(target < 5 s: {'met' if noop_ok else 'MISSED'}); added column: "
             f"{low['added_column_s']:.2f} s / {high['added_column_s']:.2f} s, ratio "
             f"{ratio:.2f} (target <= 1.2: {'met' if ratio <= 1.2 else 'MISSED'})")
    created = results["create_tenant"].get("without_owner")
    if created:
        echo(f"create_tenant p95 {created['p95_ms']:.1f} ms (target < 50 ms: "
             f"{'met' if created['p95_ms'] < 50 else 'MISSED'})")
