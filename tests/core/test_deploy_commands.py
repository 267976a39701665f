"""The commands deploy/k8s runs exist, with the options they use: each container ``command``
that starts with ``tenantry`` is run with ``--help`` through the real console script (as the
docs' commands are in test_docs_commands.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.core.commandline import base_env, tenantry

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


def _containers(node):
    if isinstance(node, dict):
        if "image" in node and "name" in node:
            yield node
        for value in node.values():
            yield from _containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _containers(item)


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            for container in _containers(document):
                command = container.get("command") or []
                if command[:1] == ["tenantry"]:
                    found.append((f"{path.name}:{container['name']}", command))
    return found


def test_the_manifests_run_commands():
    names = {where for where, _ in _commands()}
    assert {"workers.yaml:fiscal-worker", "workers.yaml:webhook-worker",
            "workers.yaml:ledger-verify", "migrate-job.yaml:migrate"} <= names


@pytest.mark.parametrize(("where", "command"), _commands(), ids=[w for w, _ in _commands()])
def test_each_command_exists_with_its_options(tmp_path, where, command):
    words = [word for word in command[1:] if not word.startswith("-")
             and not word.replace(".", "").isdigit()]
    helped = tenantry(*words, "--help", env=base_env(), cwd=tmp_path)
    assert helped.returncode == 0, (where, helped.stderr)
    for option in (word for word in command[1:] if word.startswith("--")):
        assert option in helped.stdout, (where, option)
