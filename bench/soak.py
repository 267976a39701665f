"""``python3 dev.py bench --soak``: many requests through pgbouncer, every answer checked for leaks.

The production database path of docs/operations.md ("pgbouncer"), on one machine:

1. a small data set (``--soak-tenants`` tenants, ``--soak-products`` products each, cases, a POS
   register with an open shift; ``bench.dataset``) on the benchmark PostgreSQL;
2. a real pgbouncer (``tests.fixtures.pgbouncer.PgBouncer``, the launcher the tests use) in
   ``pool_mode=transaction`` with ``--soak-pool`` server connections: fewer than the clients;
3. Tenantry under gunicorn (``deploy/gunicorn.conf.py``, ``--workers``) with ``DATABASE_URL``
   on pgbouncer and ``DATABASE_POOLER=transaction``;
4. ``--soak-requests`` requests from ``--soak-clients`` threads, each to a random tenant: list
   products, get a product, list cases (API key), and an idempotent POS receipt (a write).
   Every answer is checked against its tenant: product and register ids carry the tenant's
   number (``bench.naming``), case ids are compared with the tenant's own, read beforehand as the
   owner role. An id of another tenant is a **leak**.

It reports requests, leaks, status counts, throughput, the server connections pgbouncer held,
and every worker's RSS before (after start-up and one request per tenant) and after. The run
fails (exit 1) on any leak or any 5xx.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench import naming
from bench.dataset import DataSpec, load
from bench.pos import receipt_body, register_id
from bench.postgres import BenchDatabase, Cluster
from bench.servers import TENANTRY, Server, start_gunicorn
from bench.settings import app_settings

Echo = Callable[[str], None]
KINDS = (("list_products", 40), ("get_product", 25), ("list_cases", 20), ("pos_receipt", 15))


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def worker_rss(server: Server) -> dict[int, int]:
    """RSS in KiB of each gunicorn worker."""
    return {pid: rss for pid in server.worker_pids() if (rss := _rss_kib(pid)) is not None}


def _credentials(workdir: Path, name: str) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in (workdir / name).read_text().splitlines()]


def _cases_by_tenant(database: BenchDatabase) -> dict[str, set[str]]:
    with psycopg.connect(BenchDatabase.libpq(database.owner_url)) as connection:
        rows = connection.execute("SELECT tenant_id::text, id::text FROM cases").fetchall()
    cases: dict[str, set[str]] = {}
    for tenant, case in rows:
        cases.setdefault(tenant, set()).add(case)
    return cases


class Soak:
    """The request mix and its checks, against one server."""

    def __init__(self, server: Server, workdir: Path, database: BenchDatabase, tenants: int,
                 products: int) -> None:
        self.server, self.tenants, self.products = server, tenants, products
        self.tokens = _credentials(workdir, "tokens-cashier.txt")
        self.keys = _credentials(workdir, "apikeys.txt")
        self.cases = _cases_by_tenant(database)
        self.port = int(server.url.rsplit(":", 1)[1])
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.kinds: Counter = Counter()
        self.leaks: list[str] = []
        self.errors: list[str] = []

    # -- one request
    def _send(self, method: str, path: str, headers: dict, body) -> tuple[int, object]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = None if body is None else json.dumps(body)
            if payload is not None:
                headers = {**headers, "Content-Type": "application/json"}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw[:200]

    def _foreign_ids(self, n: int, kind: str, body) -> list[str]:
        """Ids in ``body`` that do not belong to tenant ``n``."""
        suffix = f"{n:012x}"
        if kind == "list_products":
            return [p["id"] for p in body if not p["id"].endswith(suffix)]
        if kind == "get_product":
            return [] if body["id"].endswith(suffix) else [body["id"]]
        if kind == "list_cases":
            own = self.cases.get(str(naming.tenant_id(n)), set())
            return [c["id"] for c in body if c["id"] not in own]
        ids = [body["register_id"], *(line["product_id"] for line in body["lines"])]
        return [i for i in ids if not i.endswith(suffix)]

    def one(self, rng: random.Random) -> None:
        n = rng.randrange(self.tenants) + 1
        kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        host, token = self.tokens[n - 1]
        headers = {"Host": host, "Authorization": f"Bearer {token}"}
        body = None
        method = "GET"
        if kind == "list_products":
            path = "/api/v1/catalog/products?page=1&page_size=20"
        elif kind == "get_product":
            product = naming.product_id(n, rng.randrange(self.products) + 1)
            path = f"/api/v1/catalog/products/{product}"
        elif kind == "list_cases":
            path = "/cases?page=1&page_size=20"
            headers = {"Host": host, "X-API-Key": self.keys[n - 1][1]}
        else:
            method, path = "POST", f"/api/v1/pos/registers/{register_id(n)}/receipts"
            headers["Idempotency-Key"] = uuid.uuid4().hex
            body = receipt_body(n, self.products, rng)
        try:
            status, answer = self._send(method, path, headers, body)
        except (OSError, http.client.HTTPException) as error:
            with self.lock:
                self.statuses["connection error"] += 1
                self.errors.append(f"{kind} t{n}: {error!r}")
            return
        foreign = self._foreign_ids(n, kind, answer) if 200 <= status < 300 else []
        with self.lock:
            self.statuses[status] += 1
            self.kinds[kind] += 1
            if foreign:
                self.leaks.append(f"{kind} for tenant {n} answered {foreign[:3]}")
            if status >= 500 and len(self.errors) < 20:
                self.errors.append(f"{kind} t{n}: {status} {str(answer)[:200]}")

    def warm_up(self) -> None:
        """One request per tenant, so that every worker's caches and pool are in use."""
        rng = random.Random(0)
        for _ in range(self.tenants):
            self.one(rng)

    def run(self, requests: int, clients: int) -> float:
        remaining = iter(range(requests))
        lock = threading.Lock()

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                self.one(rng)

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(1, clients + 1)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def run(cluster: Cluster, args, workdir: Path, echo: Echo) -> dict:
    """The soak (module docstring); returns its figures, ``failed`` true on leaks or 5xx."""
    from tests.fixtures.pgbouncer import PgBouncer, find_pgbouncer

    if find_pgbouncer() is None:
        raise SystemExit("--soak needs pgbouncer: sudo apt-get install -y pgbouncer")
    spec = DataSpec(tenants=args.soak_tenants, products=args.soak_products, cases=5, sales=0)
    database = cluster.create_database("tenantry_soak")
    load(database, spec, workdir / "soak", echo)
    # Its own folder under /tmp: as root, pgbouncer runs as another user, who may not reach
    # the workdir.
    bouncer = PgBouncer(database.app_url, pool_size=args.soak_pool).start()
    echo(f"pgbouncer {bouncer.binary}: pool_mode=transaction, default_pool_size="
         f"{args.soak_pool}, port {bouncer.port}")
    env = {**app_settings(database), "DATABASE_URL": bouncer.url,
           "DATABASE_POOLER": "transaction"}
    server = start_gunicorn("tenantry-soak", TENANTRY, env, workdir, workers=args.workers)
    try:
        echo(f"started tenantry-soak: {server.url} ({args.workers} sync workers), "
             f"{args.soak_clients} clients")
        soak = Soak(server, workdir / "soak", database, spec.tenants, spec.products)
        soak.warm_up()
        rss_before = worker_rss(server)
        soak.statuses.clear()
        soak.kinds.clear()
        seconds = soak.run(args.soak_requests, args.soak_clients)
        rss_after = worker_rss(server)
        servers_held = bouncer.server_connections()
        pools = bouncer.show("POOLS")
    finally:
        server.stop()
        bouncer.cleanup()
    five_hundreds = sum(count for status, count in soak.statuses.items()
                        if not isinstance(status, int) or status >= 500)
    figures = {
        "requests": sum(soak.statuses.values()),
        "seconds": round(seconds, 1),
        "requests_per_second": round(sum(soak.statuses.values()) / seconds, 1),
        "leaks": len(soak.leaks),
        "statuses": {str(k): v for k, v in sorted(soak.statuses.items(), key=str)},
        "kinds": dict(soak.kinds),
        "tenants": spec.tenants,
        "clients": args.soak_clients,
        "workers": args.workers,
        "pgbouncer_pool": args.soak_pool,
        "pgbouncer_server_connections_at_end": servers_held,
        "pgbouncer_pools": pools,
        "worker_rss_kib_before": rss_before,
        "worker_rss_kib_after": rss_after,
        "failed": bool(soak.leaks or five_hundreds),
        "errors": soak.errors[:20],
        "leak_examples": soak.leaks[:20],
    }
    _print(figures, echo)
    return figures


def _mib(kib: dict[int, int]) -> str:
    return ", ".join(f"{value / 1024:.0f}" for value in kib.values()) + " MiB"


def _print(figures: dict, echo: Echo) -> None:
    echo("")
    echo(f"soak: {figures['requests']:,} requests in {figures['seconds']} s "
         f"({figures['requests_per_second']} req/s), {figures['clients']} clients, "
         f"{figures['tenants']} tenants, {figures['workers']} workers, pgbouncer pool "
         f"{figures['pgbouncer_pool']} (held {figures['pgbouncer_server_connections_at_end']} "
         "at the end)")
    echo(f"  leaks: {figures['leaks']}")
    echo(f"  statuses: {figures['statuses']}")
    echo(f"  requests by kind: {figures['kinds']}")
    echo(f"  worker RSS before: {_mib(figures['worker_rss_kib_before'])}")
    echo(f"  worker RSS after:  {_mib(figures['worker_rss_kib_after'])}")
    for line in figures["errors"][:5] + figures["leak_examples"][:5]:
        echo(f"  ! {line}")
    echo("  result: " + ("FAILED (leaks or 5xx)" if figures["failed"] else "ok"))
