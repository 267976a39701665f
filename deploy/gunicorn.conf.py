"""gunicorn settings: ``gunicorn -c deploy/gunicorn.conf.py 'core.wsgi:build_app()'``.

Sync workers: requests are short and database-bound, and a sync worker holds one pooled
connection at a time, which keeps PostgreSQL's connection count predictable (workers x
DB_POOL_SIZE + DB_MAX_OVERFLOW). Scale out with more pods, not more threads: on 2 cores gthread
workers served 0.62-0.96x and 5 sync workers 0.76-1.11x of what CPUs + 1 sync workers served
(docs/benchmarks.md, "Worker model").

How many workers (docs/operations.md, "Workers, memory and metrics"): ``WEB_CONCURRENCY`` when
set; otherwise CPUs + 1, where CPUs is the container's CPU quota (cgroup ``cpu.max``) or, without
one, the CPUs this process may run on, and capped so that the memory limit (cgroup
``memory.max``) holds: ``limit >= MASTER_MB + workers x WORKER_MB + HEADROOM_MB`` (MiB). CPUs + 1
alone gave 7 workers (~700 MiB) in a 512 MiB container on a 6-CPU node without a CPU limit.

Metrics (core.metrics): every worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR so
that one scrape adds up all workers. The master sets it up before any worker starts (a fresh
temporary folder unless the variable names one, whose old files are removed: counts of an
earlier run must not add up with these) and tells prometheus-client when a worker exits, so
the gauges of dead workers drop out.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

# MiB, measured under this config (docs/operations.md, "Workers, memory and metrics"): RSS of
# the master (24) and of a worker after 1,100 requests across the modules (98), rounded up; the
# headroom covers growth until max_requests recycles a worker, and the metric files.
MASTER_MB = 30
WORKER_MB = 110
HEADROOM_MB = 64


def _cgroup_value(*paths: str) -> str | None:
    for path in paths:
        try:
            return Path(path).read_text().strip()
        except OSError:
            continue
    return None


def container_cpus() -> int:
    """CPUs this container may use: its cgroup quota (rounded up), else the CPUs it may run on."""
    quota = _cgroup_value("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max ..."
    if quota and not quota.startswith("max"):
        limit, period = (int(part) for part in quota.split()[:2])
        return max(1, -(-limit // period))
    quota_v1 = _cgroup_value("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    period_v1 = _cgroup_value("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if quota_v1 and period_v1 and int(quota_v1) > 0:
        return max(1, -(-int(quota_v1) // int(period_v1)))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return multiprocessing.cpu_count()


def container_memory_mb() -> int | None:
    """The container's memory limit in MB, or None when there is none."""
    limit = _cgroup_value("/sys/fs/cgroup/memory.max",  # cgroup v2
                          "/sys/fs/cgroup/memory/memory.limit_in_bytes")  # v1
    if not limit or not limit.isdigit() or int(limit) >= 1 << 60:  # "max", or v1's "none"
        return None
    return int(limit) // (1024 * 1024)


def default_workers(cpus: int, memory_mb: int | None) -> int:
    by_cpu = cpus + 1
    if memory_mb is None:
        return by_cpu
    by_memory = (memory_mb - MASTER_MB - HEADROOM_MB) // WORKER_MB
    return max(1, min(by_cpu, by_memory))


bind = f"{os.environ.get('APP_HOST', '0.0.0.0')}:{os.environ.get('APP_PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers(container_cpus(),
                                                                    container_memory_mb()))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 10000  # recycle workers to bound memory growth
max_requests_jitter = 1000
accesslog = None  # Tenantry writes its own access line with request id and tenant
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Internal marker, not a setting: this config made the folder, so on_exit removes it. In the
# environment because a HUP re-reads this file (and forgets its globals).
_MADE_HERE = "TENANTRY_METRICS_FOLDER_MADE"


def on_starting(server):
    """Once, in the master, before any worker starts (and imports prometheus-client, which
    reads the variable when it is imported); not again when a HUP reloads this file."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tenantry-metrics-")
        os.environ[_MADE_HERE] = "1"
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A worker ended (recycled, killed or crashed): its live gauges must stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get(_MADE_HERE):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
