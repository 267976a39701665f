"""Run PostgreSQL's ``pgbench`` with a scenario's SQL (``bench/pgbench/<name>.sql``).

The scripts send the statements Tenantry sends for a scenario, as the app role (so RLS
applies), for a random tenant per transaction: the database's ceiling for that work with no
Python at all. ``-M prepared`` matches psycopg, which prepares statements a connection has run
five times. Latency percentiles come from pgbench's per-transaction log (``-l``).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.postgres import BenchDatabase
from bench.wrk import WrkResult

SCRIPT_DIR = Path(__file__).resolve().parent / "pgbench"
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_FAILED = re.compile(r"number of failed transactions: (\d+)")


class PgbenchError(RuntimeError):
    """pgbench is missing or failed."""


def pgbench_binary() -> str:
    candidates = [os.environ.get("PG_BINDIR", ""), *sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if folder and (Path(folder) / "pgbench").is_file():
            return str(Path(folder) / "pgbench")
    found = shutil.which("pgbench")
    if found is None:
        raise PgbenchError("pgbench not found (it ships with the PostgreSQL server packages)")
    return found


def has_metering(database: BenchDatabase) -> bool:
    import psycopg

    with psycopg.connect(BenchDatabase.libpq(database.app_url)) as connection:
        return connection.execute("SELECT to_regprocedure("
                                  "'billing_count_call(uuid, text, integer)')").fetchone()[0] \
            is not None


def effective_script(name: str, workdir: Path, metering: bool) -> Path:
    """The script with its "-- billing" lines dropped when there is no counter function."""
    lines = (SCRIPT_DIR / f"{name}.sql").read_text().splitlines()
    kept = [line for line in lines if metering or not line.rstrip().endswith("-- billing")]
    path = workdir / f"pgbench-{name}.sql"
    path.write_text("\n".join(kept) + "\n")
    return path


def run_pgbench(database: BenchDatabase, script: Path, *, seconds: float, clients: int,
                variables: dict[str, int]) -> WrkResult:
    url = make_url(database.app_url)
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    host = url.query.get("host") or url.host or "localhost"
    args = [pgbench_binary(), "-n", "-M", "prepared", "-c", str(clients), "-j", "1",
            "-T", str(max(1, round(seconds))), "-f", str(script), "-h", str(host),
            "-U", url.username, "-l"]
    if url.port:
        args += ["-p", str(url.port)]
    for name, value in variables.items():
        args += ["-D", f"{name}={value}"]
    args.append(url.database)
    with tempfile.TemporaryDirectory(prefix="tenantry-pgbench-") as logdir:
        completed = subprocess.run([*args, "--log-prefix", f"{logdir}/tx"], env=env,
                                   capture_output=True, text=True, timeout=seconds + 120,
                                   check=False)
        if completed.returncode != 0 or not _TPS.search(completed.stdout):
            raise PgbenchError(f"pgbench failed (exit {completed.returncode}):\n"
                               f"{completed.stdout[-1500:]}\n{completed.stderr[-1500:]}")
        latencies_us = []
        for log in Path(logdir).glob("tx*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3:
                    latencies_us.append(int(fields[2]))
    latencies_us.sort()
    failed = _FAILED.search(completed.stdout)

    def percentile(p: float) -> float:
        if not latencies_us:
            return float("nan")
        return latencies_us[min(len(latencies_us) - 1, int(len(latencies_us) * p))] / 1000

    tps = float(_TPS.search(completed.stdout).group(1))
    return WrkResult(
        requests=len(latencies_us), seconds=len(latencies_us) / tps if tps else 0.0,
        p50_ms=percentile(0.5), p90_ms=percentile(0.9), p99_ms=percentile(0.99),
        max_ms=latencies_us[-1] / 1000 if latencies_us else float("nan"),
        non2xx=int(failed.group(1)) if failed else 0, socket_errors=0, statuses={})

