"""Run ``wrk`` with a scenario's Lua script and parse the JSON line its ``done()`` prints.

Every script loads ``bench/wrk/common.lua``: a random tenant per request (its Host header and
credential from a file written by ``bench.dataset``), non-2xx counting, and an optional fixed
pause after each response (``delay_ms``) for the rate-limited p99 runs: wrk 4 has no ``-R``
(that is wrk2), so the pace is set per connection and the achieved rate is reported as
measured. wrk measures latency from the moment a request is sent, so a paced run does not
correct for coordinated omission the way wrk2 does; see docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"
_MARK = "BENCH_RESULT "


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no result."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int  # connect + read + write + timeout
    statuses: dict[str, int]
    error_sample: str = ""  # the first non-2xx answers, as common.lua prints them

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk is not installed (Debian: apt-get install -y wrk)")
    return path


def run_wrk(url: str, script: str, credentials: Path, *, seconds: float, connections: int,
            threads: int = 1, products: int = 200, delay_ms: float = 0.0, seed: int = 1,
            timeout_s: int = 5, extra_env: dict[str, str] | None = None
            ) -> WrkResult:
    env = {**os.environ, **(extra_env or {}), "BENCH_WRK_DIR": str(WRK_DIR),
           "BENCH_CREDENTIALS": str(credentials), "BENCH_PRODUCTS": str(products),
           "BENCH_DELAY_MS": f"{delay_ms:.3f}", "BENCH_SEED": str(seed),
           "BENCH_RUN_ID": uuid.uuid4().hex[:12]}
    args = [wrk_binary(), "-t", str(threads), "-c", str(max(connections, threads)),
            "-d", f"{max(1, round(seconds))}s", "--timeout", f"{timeout_s}s", "--latency",
            "-s", str(WRK_DIR / script), url]
    completed = subprocess.run(args, env=env, capture_output=True, text=True,
                               timeout=seconds + 60, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith(_MARK):
            data = json.loads(line[len(_MARK):])
            break
    else:
        raise WrkError(f"wrk printed no result (exit {completed.returncode}):\n"
                       f"{completed.stdout[-1500:]}\n{completed.stderr[-1500:]}")
    return WrkResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000,
        non2xx=data["non2xx"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        statuses={str(k): v for k, v in data["statuses"].items()},
        error_sample=completed.stderr[-1000:] if data["non2xx"] else "")
