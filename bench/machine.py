"""What the benchmark ran on: CPUs, memory, load, versions (printed and kept in results.json)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def describe(workers: int) -> dict:
    import gunicorn

    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory": _memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gunicorn": f"{gunicorn.__version__}, {workers} sync workers (deploy/gunicorn.conf.py)",
        "load_average_start": load_average(),
    }


def lines(description: dict) -> list[str]:
    return [f"{key}: {value}" for key, value in description.items()]
