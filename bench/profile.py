"""Profile a scenario in-process: the Flask test client under pyinstrument.

No HTTP server and no load generator: the profile shows only Tenantry's own work per request
(pipeline, auth, SQLAlchemy, serialisation, database round trips), which is what the
optimisation pass works on. ``python -m bench.run --profile list_products`` prints it after
loading the data set; ``--profile-requests`` sets how many requests are profiled.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from bench.postgres import BenchDatabase
from bench.scenarios import SCENARIOS, Scenario
from bench.settings import AppOptions, create_app_config


def _read_credentials(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines() if line]


def request_maker(scenario: Scenario, workdir: Path, products: int
                  ) -> Callable[[random.Random], tuple[str, str, dict, object]]:
    """(method, path, headers, json body) of one request, like the scenario's Lua script."""
    credentials = _read_credentials(workdir / scenario.credentials)

    def make(rng: random.Random):
        n = rng.randrange(len(credentials)) + 1
        host, credential = credentials[n - 1]
        method, path, headers, body = scenario.python_request(n, credential, products, rng)
        return method, path, {"Host": host, **headers}, body

    return make


def profile(database: BenchDatabase, workdir: Path, scenario_key: str, *, requests: int,
            products: int, echo: Callable[[str], None] = print) -> None:
    from pyinstrument import Profiler

    from core import create_app

    scenario = SCENARIOS[scenario_key]
    app = create_app(create_app_config(database, AppOptions()))
    client = app.test_client()
    make = request_maker(scenario, workdir, products)
    rng = random.Random(1)

    def one() -> None:
        method, path, headers, body = make(rng)
        response = client.open(path, method=method, headers=headers, json=body)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"{scenario_key}: {response.status_code} {response.get_data()!r}")

    for _ in range(50):  # warm caches, pool and imports
        one()
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for _ in range(requests):
        one()
    profiler.stop()
    elapsed = time.perf_counter() - started
    echo(f"profile of {scenario_key}: {requests} requests in {elapsed:.2f} s, "
         f"{elapsed / requests * 1000:.2f} ms each (in-process, profiler on)")
    echo(profiler.output_text(unicode=False, color=False, show_all=False))
