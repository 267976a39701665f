"""``python3 dev.py bench --login-abuse``: does a flood of bogus logins slow another tenant?

Issue 18: four concurrent logins with unknown e-mails on tenant A (each still runs argon2id,
so timing does not reveal accounts) took a tenant B GET from 0.02 s to 0.87 s. Here, on one
machine, against Tenantry under gunicorn with the production password profile:

1. a small data set (``bench.dataset``: 4 tenants, their users and tokens);
2. **victim**: one client listing tenant 2's products in a loop, alone, for ``--duration`` s;
3. **flood**: the same victim while ``--login-flood`` clients send logins to tenant 1 as fast
   as answers come, each with a new unknown e-mail and a new ``X-Forwarded-For`` address (the
   server trusts one proxy hop), so neither the per-account nor the per-address limit stops
   them: every one of them reaches argon2 -- the worst case for the hashing pool;
4. the phases alternate ``--repeats`` times; the figure is the victim's p50 under the flood
   over its p50 alone (target < 1.2), with p90/p99 and what the flood got back.

Each repeat has three phases: the victim alone, under the bogus logins, and under the same
flood of logins refused by validation (422, no hash: what any flood of cheap requests costs,
the floor for the second). Configurations, one after the other on the same data: the defaults
(sync workers, no login waits for a hashing slot), ``PASSWORD_HASH_WAIT_SECONDS=2`` (as many
logins as slots wait), and with ``--login-abuse-threads N``
gunicorn's ``gthread`` workers (N threads each).

The flood clients run on the same two cores as the server; an attacker's clients do not. So
each is a process of its own at the lowest CPU priority (``nice 19``): their CPU yields to
the server's, and what the victim feels is what the server does under the flood, not the
load generator (as threads of the victim's own process, the first cut, they also held its
GIL, and the victim's latency included waiting for them). ``--login-flood-same-priority``
runs them at normal priority: the harsher figure of clients sharing the server's cores.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.dataset import DataSpec, load
from bench.postgres import Cluster
from bench.servers import TENANTRY, Server, start_gunicorn
from bench.settings import app_settings

Echo = Callable[[str], None]
VICTIM_PATH = "/api/v1/catalog/products?page=1&page_size=20"


def _connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def _port(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _victim(server: Server, host: str, token: str, stop) -> list[float]:
    """Latencies (ms) of tenant 2's product list, one request after the other."""
    latencies = []
    headers = {"Host": host, "Authorization": f"Bearer {token}"}
    connection = _connection(_port(server))
    try:
        while not stop.is_set():
            started = time.perf_counter()
            connection.request("GET", VICTIM_PATH, headers=headers)
            response = connection.getresponse()
            body = response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"victim request answered {response.status}: {body[:300]}")
    finally:
        connection.close()
    return latencies


def _login_body(rng: random.Random, bogus: bool) -> str:
    if bogus:  # a well-formed login of an unknown account: argon2 runs (on a dummy hash)
        return json.dumps({"email": f"nobody-{uuid.uuid4().hex[:12]}@example.test",
                           "password": "wrong-password"})
    return json.dumps({"email": "no password here"})  # refused by validation: 422, no hash


def _flood(port: int, host: str, bogus: bool, stop, answers, seed: int, nice: bool) -> None:
    """One flood client (a process): logins as fast as answers come until ``stop``; puts
    {status: count} on ``answers`` at the end."""
    if nice:
        os.nice(19)  # its CPU yields to the server's: as if it ran on another machine
    rng = random.Random(seed)
    statuses: Counter = Counter()
    connection = _connection(port)
    try:
        while not stop.is_set():
            address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            connection.request("POST", "/api/v1/auth/login", body=_login_body(rng, bogus),
                               headers={"Host": host, "Content-Type": "application/json",
                                        "X-Forwarded-For": address})
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
    finally:
        connection.close()
        answers.put(dict(statuses))


def _phase(server: Server, victim: tuple[str, str], flood_host: str, clients: int,
           bogus: bool, seconds: float, nice: bool = False) -> tuple[list[float], Counter]:
    context = multiprocessing.get_context("fork")
    stop, answers = context.Event(), context.Queue()
    flooders = [context.Process(target=_flood, args=(_port(server), flood_host, bogus, stop,
                                                     answers, seed, nice), daemon=True)
                for seed in range(clients)]
    for process in flooders:
        process.start()
    latencies: list[float] = []
    victim_thread = threading.Thread(
        target=lambda: latencies.extend(_victim(server, *victim, stop)))
    victim_thread.start()
    time.sleep(seconds)
    stop.set()
    victim_thread.join()
    statuses: Counter = Counter()
    for _ in flooders:
        statuses.update(answers.get(timeout=130))
    for process in flooders:
        process.join()
    return latencies, statuses


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _summary(latencies: list[float]) -> dict:
    return {"requests": len(latencies), "p50_ms": round(statistics.median(latencies), 2),
            "p90_ms": round(_percentile(latencies, 0.9), 2),
            "p99_ms": round(_percentile(latencies, 0.99), 2)}


PHASES = (("alone", 0, True), ("bogus logins", 1, True), ("invalid logins", 1, False))


def _measure(server: Server, victim: tuple[str, str], flood_host: str, args,
             echo: Echo) -> dict:
    """Per repeat: the victim alone, under bogus logins, under logins refused by validation
    (the same flood without any hashing: what any flood of cheap requests costs)."""
    _phase(server, victim, flood_host, 0, True, args.warmup)
    latencies: dict[str, list[float]] = {name: [] for name, _, _ in PHASES}
    statuses: dict[str, Counter] = {name: Counter() for name, _, _ in PHASES}
    for repeat in range(args.repeats):
        for name, flooding, bogus in PHASES:
            measured, answered = _phase(server, victim, flood_host,
                                        args.login_flood * flooding, bogus, args.duration,
                                        nice=not args.login_flood_same_priority)
            latencies[name] += measured
            statuses[name].update(answered)
        echo(f"  repeat {repeat + 1}: victim p50 " + ", ".join(
            f"{name} {statistics.median(values):.1f} ms" for name, values in latencies.items()))
    result = {name: {**_summary(latencies[name]), "flood_answers": {
        str(k): v for k, v in sorted(statuses[name].items())}} for name, _, _ in PHASES}
    alone = result["alone"]["p50_ms"]
    result["p50_ratio_bogus"] = round(result["bogus logins"]["p50_ms"] / alone, 2)
    result["p50_ratio_invalid"] = round(result["invalid logins"]["p50_ms"] / alone, 2)
    return result


def run(cluster: Cluster, args, workdir: Path, echo: Echo) -> dict:
    """The measurement of the module docstring, per server; returns its figures."""
    spec = DataSpec(tenants=4, products=50, cases=2, sales=0)
    database = cluster.create_database("tenantry_login_abuse")
    folder = workdir / "login-abuse"
    load(database, spec, folder, echo)
    hosts_tokens = [line.split(" ", 1) for line in
                    (folder / "tokens-cashier.txt").read_text().splitlines()]
    flood_host, victim = hosts_tokens[0][0], (hosts_tokens[1][0], hosts_tokens[1][1])
    env = {**app_settings(database), "TRUSTED_PROXY_COUNT": "1",
           "LOGIN_CLIENT_MAX_FAILURES": "1000000"}
    targets = [("defaults (sync workers, no login waits for a slot)", {}, ()),
               ("one waiting place (PASSWORD_HASH_WAIT_SECONDS=2)",
                {"PASSWORD_HASH_WAIT_SECONDS": "2"}, ())]
    if args.login_abuse_threads:
        targets.append((f"gthread x{args.login_abuse_threads}", {},
                        ("--worker-class", "gthread", "--threads",
                         str(args.login_abuse_threads))))
    results: dict = {"clients": args.login_flood, "workers": args.workers,
                     "duration": args.duration, "repeats": args.repeats}
    for index, (name, extra_env, extra_args) in enumerate(targets):
        server = start_gunicorn(f"login-abuse-{index}", TENANTRY, {**env, **extra_env},
                                workdir, workers=args.workers, extra_args=extra_args)
        try:
            echo(f"started {name}: {server.url} ({args.workers} workers), "
                 f"{args.login_flood} flood clients")
            results[name] = _measure(server, victim, flood_host, args, echo)
        finally:
            server.stop()
    _print(results, [name for name, _, _ in targets], echo)
    return results


def _print(results: dict, names: list[str], echo: Echo) -> None:
    echo("")
    echo(f"login abuse: victim = tenant 2 product list; floods of {results['clients']} clients "
         f"on tenant 1; {results['workers']} workers")
    for name in names:
        figures = results[name]
        echo(f"  {name}:")
        echo(f"    victim p50 alone {figures['alone']['p50_ms']} ms, under bogus logins "
             f"{figures['bogus logins']['p50_ms']} ms (x{figures['p50_ratio_bogus']}; target "
             f"< 1.2), under invalid logins {figures['invalid logins']['p50_ms']} ms "
             f"(x{figures['p50_ratio_invalid']})")
        echo(f"    victim p99 {figures['alone']['p99_ms']} / "
             f"{figures['bogus logins']['p99_ms']} / {figures['invalid logins']['p99_ms']} ms; "
             f"bogus flood answered {figures['bogus logins']['flood_answers']}, invalid "
             f"{figures['invalid logins']['flood_answers']}")
