"""Per-request cost in-process: CPU time and SQL statements of a scenario, now and at a git ref.

Throughput on a shared 2-core machine swings by tens of percent from one minute to the next;
what one request costs the app process (CPU seconds) and how many statements it sends move
much less. ``python -m bench.run --cost`` measures both for every scenario through the Flask
test client (no HTTP server, no load generator).

With ``--compare REF`` the working tree and the Tenantry of that commit each run in a
long-lived subprocess on the same database, and the two take turns: ``--cost-rounds`` rounds
(25 by default); in each, every scenario runs a batch on one side and then at once on the
other, the side that goes first alternating. The figure to quote is the median of the rounds'
ratios, with their spread. Why: on these shared machines the CPU work a process gets done in
a CPU second switches between two levels about 1.7x apart every few seconds (a busy loop
measured in 100 ms slices: 4,500 and 8,000 iterations, runs of seconds each); two batches
back to back mostly share a level, whole runs one after another (A B B A, as this once did)
do not, and swung by up to 25 % on an unchanged scenario.

Statements are counted at SQLAlchemy's cursor (``before_cursor_execute``); psycopg's implicit
BEGIN is a round trip too, but the same before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.postgres import BenchDatabase
from bench.scenarios import SCENARIOS

_MARK = "BENCH_COST "


def _one(client, key: str, make, rng: random.Random) -> None:
    method, path, headers, body = make(rng)
    response = client.open(path, method=method, headers=headers, json=body)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"{key}: {response.status_code} {response.get_data()!r}")


class _Runner:
    """One app in this process, warmed up, running batches of a scenario's requests."""

    def __init__(self, database: BenchDatabase, workdir: Path, keys: list[str], *,
                 products: int) -> None:
        from sqlalchemy import event

        from bench.profile import request_maker
        from bench.settings import AppOptions, create_app_config
        from core import create_app
        from core.extensions import db

        app = create_app(create_app_config(database, AppOptions()))
        self.client = app.test_client()
        with app.app_context():
            engine = db.engine
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._count)
        self.makers = {key: request_maker(SCENARIOS[key], workdir, products) for key in keys}
        self.rngs = {key: random.Random(3) for key in keys}
        for key in keys:
            self.run(key, 30)

    def _count(self, *_args, **_kwargs) -> None:
        self.statements += 1

    def run(self, key: str, requests: int) -> dict[str, float]:
        """Totals of ``requests`` requests: CPU and wall seconds, statements, and the
        machine's speed around them (``_speed``, before and after, averaged)."""
        make, rng = self.makers[key], self.rngs[key]
        before = _speed()
        self.statements = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            _one(self.client, key, make, rng)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        statements = self.statements
        return {"cpu": cpu, "wall": wall, "statements": statements,
                "work": cpu * (before + _speed()) / 2}


def _speed() -> float:
    """Rounds of a fixed pure-Python workload per CPU second, over about 10 ms: the speed the
    machine gives this process right now. A batch's CPU seconds times this speed is its work
    in machine-independent units; divided by the fastest speed seen, the CPU it would have
    taken at the machine's fast level."""
    rounds, start = 0, time.process_time()
    while (spent := time.process_time() - start) < 0.01:
        sorted(str(number) for number in range(200))
        rounds += 1
    return rounds / spent


def _per_request(totals: dict[str, float], requests: int, fastest: float) -> dict[str, float]:
    return {"cpu_ms": totals["cpu"] / requests * 1000,
            "cpu_ms_fast": totals["work"] / fastest / requests * 1000,
            "wall_ms": totals["wall"] / requests * 1000,
            "statements": totals["statements"] / requests}


def measure(database: BenchDatabase, workdir: Path, keys: list[str], *, requests: int,
            rounds: int, products: int) -> dict[str, dict]:
    """{scenario: {cpu_ms, cpu_ms_fast, wall_ms, statements}} per request, this process's
    Tenantry, in ``rounds`` batches per scenario."""
    runner = _Runner(database, workdir, keys, products=products)
    batch = max(1, requests // rounds)
    totals = {key: {"cpu": 0.0, "wall": 0.0, "statements": 0, "work": 0.0} for key in keys}
    fastest = 0.0
    for _ in range(rounds):
        for key in keys:
            result = runner.run(key, batch)
            fastest = max(fastest, result["work"] / result["cpu"])
            for figure, value in result.items():
                totals[key][figure] += value
    return {key: _per_request(totals[key], batch * rounds, fastest) for key in keys}


class _Side:
    """A subprocess serving ``_Runner`` batches for the checkout at ``root``: it imports that
    checkout's ``core`` and ``plugins`` and this checkout's ``bench``."""

    def __init__(self, stack: ExitStack, root: Path, database: BenchDatabase, workdir: Path,
                 keys: list[str], products: int) -> None:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="tenantry-bench-cost-")))
        shutil.copytree(Path(__file__).resolve().parent, folder / "bench",
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(root)])}
        self.log = folder / "stderr.log"
        errors = stack.enter_context(self.log.open("w"))
        self.root = root
        self.process = stack.enter_context(subprocess.Popen(
            [sys.executable, "-m", "bench.cost", "--database", json.dumps(database.__dict__),
             "--workdir", str(workdir), "--scenarios", ",".join(keys),
             "--products", str(products), "--serve"],
            cwd=folder, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            text=True))
        stack.callback(self.process.kill)
        self._answer()  # ready: the app is built and warmed up

    def _answer(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(_MARK):
                return json.loads(line[len(_MARK):])
        raise RuntimeError(f"cost run at {self.root} failed:\n{self.log.read_text()[-3000:]}")

    def run(self, key: str, requests: int) -> dict[str, float]:
        self.process.stdin.write(f"{key} {requests}\n")
        self.process.stdin.flush()
        return self._answer()


def compare(roots: dict[str, Path], database: BenchDatabase, workdir: Path, keys: list[str], *,
            requests: int, rounds: int, products: int) -> tuple[dict, dict]:
    """Both sides (``roots``: two {side: checkout}) taking turns (module docstring):
    ({side: {scenario: per-request figures}}, {scenario: {median, low, high}} of the rounds'
    ratios of work (CPU at the speed of the moment, ``_speed``), first side over second)."""
    batch = max(1, requests // rounds)
    first, second = roots
    with ExitStack() as stack:
        sides = {side: _Side(stack, root, database, workdir, keys, products)
                 for side, root in roots.items()}
        totals = {side: {key: {"cpu": 0.0, "wall": 0.0, "statements": 0, "work": 0.0}
                          for key in keys} for side in roots}
        fastest = 0.0
        ratios: dict[str, list[float]] = {key: [] for key in keys}
        for number in range(rounds):
            order = (first, second) if number % 2 == 0 else (second, first)
            for key in keys:
                cpu = {}
                for side in order:  # back to back: the same state of the machine, mostly
                    result = sides[side].run(key, batch)
                    cpu[side] = result["work"]
                    fastest = max(fastest, result["work"] / result["cpu"])
                    for figure, value in result.items():
                        totals[side][key][figure] += value
                ratios[key].append(cpu[first] / cpu[second])
    measured = {side: {key: _per_request(totals[side][key], batch * rounds, fastest)
                       for key in keys} for side in roots}
    spread = {key: {"median": statistics.median(values), "low": min(values),
                    "high": max(values)} for key, values in ratios.items()}
    return measured, spread


def _serve(runner: _Runner) -> None:
    """Answer "<scenario> <requests>" lines on stdin with the batch's totals."""
    print(_MARK + json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        key, requests = line.split()
        print(_MARK + json.dumps(runner.run(key, int(requests))), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="used by bench.run --cost --compare")
    parser.add_argument("--database", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--scenarios", required=True)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--serve", action="store_true", help="answer batches on stdin")
    args = parser.parse_args()
    database = BenchDatabase(**json.loads(args.database))
    _serve(_Runner(database, args.workdir, args.scenarios.split(","), products=args.products))
    return 0


if __name__ == "__main__":
    sys.exit(main())
