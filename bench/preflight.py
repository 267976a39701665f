"""Before measuring: every scenario answers 2xx on every server it will run on, and the
RLS-off app answers the same body as the real one (proof that its explicit tenant filters
cover what the scenario reads)."""

from __future__ import annotations

import http.client
import json
import random
from collections.abc import Callable
from urllib.parse import urlsplit

from bench.profile import request_maker
from bench.scenarios import SCENARIOS


class PreflightError(RuntimeError):
    """A scenario does not work on a server: measuring it would measure errors."""


def send(url: str, method: str, path: str, headers: dict, body) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            headers = {**headers, "Content-Type": "application/json"}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _comparable(body: bytes):
    return json.loads(body) if body else None


def check(suite, scenario_keys: list[str], echo: Callable[[str], None]) -> None:
    for key in scenario_keys:
        scenario = SCENARIOS[key]
        if suite.unavailable(scenario):
            continue
        make = request_maker(scenario, suite.workdir, suite.options.products)
        bodies = {}
        for server_name in suite.targets(scenario):
            method, path, headers, body = make(random.Random(7))
            status, answer = send(suite.servers[server_name].url, method, path, headers, body)
            if not 200 <= status < 300:
                raise PreflightError(f"{key} on {server_name}: {status} {answer[:500]!r}")
            bodies[server_name] = _comparable(answer) if method == "GET" else None
        for other in ("tenantry-no-rls", "baseline"):
            if other in bodies and bodies[other] is not None and \
                    bodies[other] != bodies.get("tenantry"):
                raise PreflightError(f"{key}: {other} answers a different body than tenantry")
        echo(f"preflight {key}: ok on {', '.join(bodies)}")
