"""Per-request cost in-process: CPU time and SQL statements of a scenario, now and at a git ref.

Throughput on a shared 2-core machine swings by tens of percent from one minute to the next;
what one request costs the app process (CPU seconds) and how many statements it sends do not.
``python -m bench.run --cost`` measures both for every scenario through the Flask test client
(no HTTP server, no load generator), and with ``--compare REF`` measures the working tree and
the Tenantry of that commit each twice, in subprocesses on the same database, in the order
A B B A: the before/after of an optimisation, with neither side favoured by going first.

Statements are counted at SQLAlchemy's cursor (``before_cursor_execute``); psycopg's implicit
BEGIN and the pool's pre-ping are round trips too, but the same before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.postgres import BenchDatabase
from bench.scenarios import SCENARIOS

_MARK = "BENCH_COST "


def _one(client, key: str, make, rng: random.Random) -> None:
    method, path, headers, body = make(rng)
    response = client.open(path, method=method, headers=headers, json=body)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"{key}: {response.status_code} {response.get_data()!r}")


def measure(database: BenchDatabase, workdir: Path, keys: list[str], *, requests: int,
            products: int) -> dict[str, dict]:
    """{scenario: {cpu_ms, wall_ms, statements}} per request, this process's Tenantry."""
    from sqlalchemy import event

    from bench.profile import request_maker
    from bench.settings import AppOptions, create_app_config
    from core import create_app
    from core.extensions import db

    app = create_app(create_app_config(database, AppOptions()))
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    statements = [0]

    def count(*_args, **_kwargs) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    results = {}
    for key in keys:
        make = request_maker(SCENARIOS[key], workdir, products)
        rng = random.Random(3)

        for _ in range(30):
            _one(client, key, make, rng)
        statements[0] = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            _one(client, key, make, rng)
        results[key] = {"cpu_ms": (time.process_time() - cpu) / requests * 1000,
                        "wall_ms": (time.perf_counter() - wall) / requests * 1000,
                        "statements": statements[0] / requests}
    return results


def average(runs: list[dict[str, dict]]) -> dict[str, dict]:
    """The mean of each figure of each scenario over several ``measure_at`` results."""
    return {key: {figure: sum(run[key][figure] for run in runs) / len(runs)
                  for figure in runs[0][key]}
            for key in runs[0]}


def measure_at(root: Path, database: BenchDatabase, workdir: Path, keys: list[str], *,
               requests: int, products: int) -> dict[str, dict]:
    """The same, for the checkout at ``root``: a subprocess that imports its ``core`` and
    ``plugins`` and this checkout's ``bench``."""
    with tempfile.TemporaryDirectory(prefix="tenantry-bench-cost-") as folder:
        shutil.copytree(Path(__file__).resolve().parent, Path(folder) / "bench",
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([folder, str(root)])}
        args = [sys.executable, "-m", "bench.cost", "--database", json.dumps(database.__dict__),
                "--workdir", str(workdir), "--scenarios", ",".join(keys),
                "--requests", str(requests), "--products", str(products)]
        completed = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True,
                                   check=False, timeout=1800)
    for line in completed.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f"cost run at {root} failed:\n{completed.stderr[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description="used by bench.run --cost --compare")
    parser.add_argument("--database", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--scenarios", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--products", type=int, default=200)
    args = parser.parse_args()
    database = BenchDatabase(**json.loads(args.database))
    results = measure(database, args.workdir, args.scenarios.split(","),
                      requests=args.requests, products=args.products)
    print(_MARK + json.dumps(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
