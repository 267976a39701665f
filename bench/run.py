"""``python -m bench.run``: the whole benchmark in one command (docs/benchmarks.md).

1. start PostgreSQL (embedded, durable; or ``--admin-url``) and load the data set;
2. copy the database and turn RLS off in the copy (for the RLS-cost baseline);
3. start Tenantry, the bare Flask baseline and Tenantry-without-RLS under gunicorn;
4. check every scenario once on every server (2xx, and the same body with and without RLS);
5. warm up, then run each scenario ``--repeats`` times, interleaving servers and pgbench so
   that drift on a shared machine hits them alike;
6. measure p99 at 70 % of each scenario's peak throughput (paced wrk);
7. print the table, the ratios against the targets, and write ``results.json``;
8. ``--scaling``: tenant-count scaling, migrate-all and tenant creation (``bench.scaling``).

``--soak`` instead runs only the soak through pgbouncer (``bench.soak``); ``--login-abuse``
only the login flood (``bench.login_abuse``); ``--shift-close`` only the close of shifts with
many receipts (``bench.shift_close``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench import machine, preflight
from bench.dataset import DataSpec, load
from bench.postgres import Cluster
from bench.scenarios import SCENARIOS
from bench.servers import (
    BASELINE,
    PROJECT_ROOT,
    TENANTRY,
    TENANTRY_NO_RLS,
    checkout,
    running,
)
from bench.settings import app_settings
from bench.suite import Suite, SuiteOptions


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_argument_group("data set")
    data.add_argument("--tenants", type=int, default=1000)
    data.add_argument("--products", type=int, default=200, help="per tenant")
    data.add_argument("--cases", type=int, default=20, help="per tenant")
    data.add_argument("--sales", type=int, default=30, help="fulfilled sales per tenant")
    load_group = parser.add_argument_group("load")
    load_group.add_argument("--duration", type=float, default=10, help="seconds per run")
    load_group.add_argument("--warmup", type=float, default=2, help="seconds, not measured")
    load_group.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    load_group.add_argument("--connections", type=int, default=12, help="wrk connections")
    load_group.add_argument("--wrk-threads", type=int, default=1)
    load_group.add_argument("--workers", type=int, default=multiprocessing.cpu_count() + 1,
                            help="gunicorn sync workers (default: cpu count + 1, as deploy/)")
    load_group.add_argument("--scenarios", default=",".join(SCENARIOS),
                            help="comma-separated, of: " + ", ".join(SCENARIOS))
    load_group.add_argument("--no-baselines", action="store_true",
                            help="only Tenantry (no bare Flask, no RLS-off copy, no pgbench)")
    load_group.add_argument("--no-paced", action="store_true",
                            help="skip the p99-at-70%%-of-peak runs")
    parser.add_argument("--scaling", action="store_true",
                        help="also run the scaling suite (tenant counts, migrate-all, "
                             "tenant creation); takes much longer")
    parser.add_argument("--scaling-only", action="store_true", help="only the scaling suite")
    parser.add_argument("--scaling-tenants", default="10,1000,10000",
                        help="tenant counts of the scaling runs (first and last are compared)")
    parser.add_argument("--create-tenants", type=int, default=1000,
                        help="tenants created in a row by the scaling suite")
    parser.add_argument("--compare", metavar="REF", help="also serve Tenantry as of this git "
                        "ref (e.g. the commit before an optimisation) on the same data, "
                        "measured interleaved with the current one: before/after in one run")
    load_group.add_argument("--gthread", type=int, default=0, metavar="N",
                            help="also serve Tenantry with gthread workers of N threads each "
                                 "(server tenantry+gthreadN, compared with the deploy config)")
    load_group.add_argument("--also-workers", type=int, default=0, metavar="N",
                            help="also serve Tenantry with N sync workers (server "
                                 "tenantry+syncN, compared with the deploy config)")
    parser.add_argument("--profile", metavar="SCENARIO",
                        help="profile one scenario in-process (pyinstrument) and stop")
    parser.add_argument("--profile-requests", type=int, default=500)
    parser.add_argument("--cost-rounds", type=int, default=25, metavar="N",
                        help="with --cost --compare: rounds of turns between the two sides")
    parser.add_argument("--cost", action="store_true",
                        help="measure CPU time and SQL statements per request in-process "
                             "(with --compare: also at that ref) and stop")
    soak = parser.add_argument_group("soak (bench/soak.py)")
    soak.add_argument("--soak", action="store_true",
                      help="only the soak: --soak-requests requests to random tenants through "
                           "pgbouncer in transaction mode, every answer checked for leaks")
    soak.add_argument("--soak-requests", type=int, default=10_000)
    soak.add_argument("--soak-clients", type=int, default=8, help="concurrent client threads")
    soak.add_argument("--soak-pool", type=int, default=2,
                      help="pgbouncer server connections (default_pool_size)")
    soak.add_argument("--soak-tenants", type=int, default=20)
    soak.add_argument("--soak-products", type=int, default=50, help="per tenant")
    abuse = parser.add_argument_group("login abuse (bench/login_abuse.py)")
    abuse.add_argument("--login-abuse", action="store_true",
                       help="only the login-abuse run: another tenant's latency alone and "
                            "under a flood of bogus logins")
    abuse.add_argument("--login-flood", type=int, default=4, help="concurrent login clients")
    abuse.add_argument("--login-flood-same-priority", action="store_true",
                       help="flood clients at normal CPU priority (default: nice 19, as if "
                            "they ran on another machine)")
    abuse.add_argument("--login-abuse-threads", type=int, default=0, metavar="N",
                       help="also measure gthread workers with N threads each")
    closing = parser.add_argument_group("shift close (bench/shift_close.py)")
    closing.add_argument("--shift-close", action="store_true",
                         help="only the shift-close run: X report and close of shifts with "
                              "many receipts, against recomputing their totals")
    closing.add_argument("--shift-close-shifts", type=int, default=20, help="shifts closed")
    closing.add_argument("--shift-close-receipts", type=int, default=10000,
                         help="receipts per shift")
    closing.add_argument("--shift-close-reads", type=int, default=5,
                         help="X reports read per shift before it closes")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny and short: 50 tenants, 3 s runs, 1 repeat (checks the harness)")
    parser.add_argument("--admin-url", help="superuser URL of a PostgreSQL server to use "
                        "instead of the embedded one")
    parser.add_argument("--workdir", type=Path, help="logs, credentials and results.json "
                        "(default: a new temporary folder)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.tenants, args.duration, args.warmup, args.repeats = 50, 3, 1, 1
        args.scaling_tenants, args.create_tenants = "5,20,50", 20
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


def echo(line: str = "") -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tenantry-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    spec = DataSpec(tenants=args.tenants, products=args.products, cases=args.cases,
                    sales=args.sales)
    description = machine.describe(args.workers)
    echo("# Tenantry benchmark")
    echo(f"workdir: {workdir}")
    cluster = Cluster(admin_url=args.admin_url)
    results: dict = {"machine": description, "args": {k: str(v) for k, v in vars(args).items()},
                     "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    try:
        results["machine"]["postgres"] = cluster.version()
        results["machine"]["postgres_settings"] = cluster.settings()
        for line in machine.lines(results["machine"]):
            echo(line)
        if args.login_abuse:
            from bench import login_abuse

            results["login_abuse"] = login_abuse.run(cluster, args, workdir, echo)
            _finish(results, workdir)
            return 0
        if args.shift_close:
            from bench import shift_close

            results["shift_close"] = shift_close.run(cluster, args, workdir, echo)
            _finish(results, workdir)
            return 1 if results["shift_close"]["mismatches"] else 0
        if args.soak:
            from bench import soak

            results["soak"] = soak.run(cluster, args, workdir, echo)
            _finish(results, workdir)
            return 1 if results["soak"]["failed"] else 0
        if args.scaling_only:
            from bench import scaling

            results["scaling"] = scaling.run_all(cluster, args, workdir, echo)
            return _finish(results, workdir)
        database = cluster.create_database("tenantry_bench")
        loaded = load(database, spec, workdir, echo)
        results["load"] = asdict(loaded)
        if args.profile:
            from bench.profile import profile

            profile(database, workdir, args.profile, requests=args.profile_requests,
                    products=spec.products, echo=echo)
            return 0
        scenario_keys = [k for k in args.scenarios.split(",") if k in SCENARIOS]
        if args.cost:
            results["cost"] = _cost(database, workdir, scenario_keys, set(loaded.modules),
                                    args, spec.products)
            return _finish(results, workdir)
        servers = {"tenantry": (TENANTRY, database, PROJECT_ROOT)}
        norls = None
        if not args.no_baselines:
            from bench.norls_app import disable_rls

            norls = cluster.clone(database, "tenantry_bench_norls")
            disable_rls(norls.libpq(norls.owner_url))
            servers["baseline"] = (BASELINE, database, PROJECT_ROOT)
            servers["tenantry-no-rls"] = (TENANTRY_NO_RLS, norls, PROJECT_ROOT)
        cluster.checkpoint()
        options = SuiteOptions(duration=args.duration, warmup=args.warmup,
                               repeats=args.repeats, connections=args.connections,
                               threads=args.wrk_threads, workers=args.workers,
                               products=spec.products, tenants=spec.tenants,
                               paced=not args.no_paced, pgbench=not args.no_baselines)
        if args.gthread:
            servers[f"tenantry+gthread{args.gthread}"] = (
                TENANTRY, database, PROJECT_ROOT,
                ("--worker-class", "gthread", "--threads", str(args.gthread)))
        if args.also_workers:
            servers[f"tenantry+sync{args.also_workers}"] = (
                TENANTRY, database, PROJECT_ROOT, (), args.also_workers)
        with contextlib.ExitStack() as stack:
            if args.compare:
                root = stack.enter_context(checkout(args.compare, workdir / "compare-checkout"))
                servers["tenantry@" + args.compare] = (TENANTRY, database, root)
            started = stack.enter_context(_servers(servers, workdir, args.workers))
            suite = Suite(options, workdir, started, set(loaded.modules), echo, norls)
            preflight.check(suite, scenario_keys, echo)
            results["main"] = suite.run(scenario_keys, database)
        if args.scaling:
            from bench import scaling

            results["scaling"] = scaling.run_all(cluster, args, workdir, echo)
        return _finish(results, workdir)
    finally:
        cluster.stop()


def _cost(database, workdir: Path, keys: list[str], modules: set[str], args,
          products: int) -> dict:
    from bench import cost, report

    keys = [k for k in keys if all(m in modules for m in SCENARIOS[k].module.split("+"))]
    requests = args.profile_requests
    echo(f"cost per request, in-process, {requests} requests per scenario")
    spread = {}
    if args.compare:
        with checkout(args.compare, workdir / "compare-checkout") as root:
            measured, spread = cost.compare(
                {"current": PROJECT_ROOT, args.compare: root}, database, workdir, keys,
                requests=requests, rounds=args.cost_rounds, products=products)
    else:
        measured = {"current": cost.measure(database, workdir, keys, requests=requests,
                                            rounds=args.cost_rounds, products=products)}
    rows = []
    for key in keys:
        now = measured["current"][key]
        row = [SCENARIOS[key].label, f"{now['cpu_ms']:.2f}", f"{now['cpu_ms_fast']:.2f}",
               f"{now['statements']:.1f}"]
        if args.compare:
            then = measured[args.compare][key]
            ratio = spread[key]
            row += [f"{then['cpu_ms_fast']:.2f}", f"{then['statements']:.1f}",
                    f"{ratio['median']:.3f} ({ratio['low']:.2f}-{ratio['high']:.2f})"]
        rows.append(row)
    headers = ["scenario", "CPU ms/request", "at the fast level", "statements/request"]
    if args.compare:
        headers += [f"at {args.compare}, fast level", f"statements at {args.compare}",
                    "work now / then: median of rounds (spread)"]
    for line in report.generic_table(headers, rows):
        echo(line)
    return {"measured": measured, "ratios": spread} if args.compare else measured


def _finish(results: dict, workdir: Path) -> int:
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results["machine"]["load_average_end"] = machine.load_average()
    path = workdir / "results.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    echo(f"\nresults: {path}  (load average at the end: {results['machine']['load_average_end']})")
    return 0


class _servers:
    """Start every server (idle until measured), stop them all at the end."""

    def __init__(self, servers: dict, workdir: Path, workers: int) -> None:
        self.servers, self.workdir, self.workers = servers, workdir, workers
        self._contexts: list = []

    def __enter__(self) -> dict:
        started = {}
        try:
            for name, (app, database, root, *variant) in self.servers.items():
                # A variant of the gunicorn set-up: (extra gunicorn arguments[, workers]).
                extra_args = variant[0] if variant else ()
                workers = variant[1] if len(variant) > 1 else self.workers
                context = running(name, app, app_settings(database), self.workdir,
                                  workers=workers, root=root, extra_args=extra_args)
                started[name] = context.__enter__()
                self._contexts.append(context)
                kind = " ".join(extra_args) if extra_args else "sync"
                echo(f"started {name}: {started[name].url} ({workers} workers, {kind})")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return started

    def __exit__(self, *exc) -> None:
        while self._contexts:
            self._contexts.pop().__exit__(*exc)


if __name__ == "__main__":
    sys.exit(main())
