"""deploy/gunicorn.conf.py's worker count and the Kubernetes manifest agree with the memory
formula (docs/operations.md, "Workers, memory and metrics"):
``limit >= MASTER_MB + workers x WORKER_MB + HEADROOM_MB``."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
MASTER, WORKER, HEADROOM = CONFIG["MASTER_MB"], CONFIG["WORKER_MB"], CONFIG["HEADROOM_MB"]
default_workers = CONFIG["default_workers"]


def needed(workers: int) -> int:
    return MASTER + workers * WORKER + HEADROOM


@pytest.mark.parametrize("cpus", [1, 2, 6, 32])
@pytest.mark.parametrize("memory_mb", [256, 512, 576, 1024, 4096])
def test_derived_workers_fit_the_memory_limit_and_the_cpus(cpus, memory_mb):
    workers = default_workers(cpus, memory_mb)
    assert 1 <= workers <= cpus + 1
    assert workers == 1 or needed(workers) <= memory_mb
    assert workers == cpus + 1 or needed(workers + 1) > memory_mb  # as many as fit


def test_without_a_memory_limit_it_is_cpus_plus_one():
    assert default_workers(6, None) == 7


@pytest.mark.parametrize(("files", "cpus"), [
    ({"/sys/fs/cgroup/cpu.max": "150000 100000"}, 2),  # 1.5 CPUs: rounded up
    ({"/sys/fs/cgroup/cpu.max": "400000 100000"}, 4),
    ({"/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "200000",
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000"}, 2),  # cgroup v1
])
def test_cpus_come_from_the_container_quota(files, cpus):
    function = CONFIG["container_cpus"]
    read = function.__globals__["_cgroup_value"]
    function.__globals__["_cgroup_value"] = lambda *paths: next(
        (files[path] for path in paths if path in files), None)
    try:
        assert function() == cpus
    finally:
        function.__globals__["_cgroup_value"] = read


@pytest.mark.parametrize(("files", "memory_mb"), [
    ({"/sys/fs/cgroup/memory.max": str(576 * 1024 * 1024)}, 576),
    ({"/sys/fs/cgroup/memory.max": "max"}, None),
    ({"/sys/fs/cgroup/memory/memory.limit_in_bytes": str(2**63 - 4096)}, None),  # v1: none
    ({}, None),
])
def test_memory_limit_comes_from_the_cgroup(files, memory_mb):
    function = CONFIG["container_memory_mb"]
    read = function.__globals__["_cgroup_value"]
    function.__globals__["_cgroup_value"] = lambda *paths: next(
        (files[path] for path in paths if path in files), None)
    try:
        assert function() == memory_mb
    finally:
        function.__globals__["_cgroup_value"] = read


def _mebibytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def test_the_deployment_runs_what_its_memory_limit_holds_on_a_six_cpu_node():
    text = (ROOT / "deploy" / "k8s" / "deployment.yaml").read_text()
    deployment = next(d for d in yaml.safe_load_all(text) if d["kind"] == "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    resources = container["resources"]
    limit = _mebibytes(resources["limits"]["memory"])
    assert _mebibytes(resources["requests"]["memory"]) == limit  # no overcommit to be OOM-killed
    # The count is derived from the limit, so the two cannot drift apart.
    assert "WEB_CONCURRENCY" not in {env["name"] for env in container.get("env", [])}
    workers = default_workers(6, limit)
    assert workers >= 2
    assert needed(workers) <= limit
    # The manifest's comment states the formula's numbers and the result.
    said = re.search(r"limit >= (\d+) MiB master \+ workers x (\d+) MiB \+ (\d+) MiB headroom,"
                     r"\s*#\s*so (\d+)Mi runs (\d+) workers \((\d+) MiB\)", text)
    assert said, "deployment.yaml: the worker formula comment is missing"
    assert [int(n) for n in said.groups()] == [MASTER, WORKER, HEADROOM, limit, workers,
                                              needed(workers)]
