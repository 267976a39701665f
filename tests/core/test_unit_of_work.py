"""One unit of work: a request's transaction is committed in one place, the request pipeline
(core/pipeline.py), never by a view or a service. Commands (they are not requests) commit
their own work; each allowed place is listed here with the reason."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# file -> why it may commit
ALLOWED = {
    "core/pipeline.py": "the request's one commit",
    "core/commands/bootstrap_command.py": "the `tenantry bootstrap` command",
    "core/commands/tenant_commands.py": "the `tenantry tenants` commands",
    "core/commands/__init__.py": "run_service: a command's service call, committed",
    "core/seed.py": "the dev server's demo seed, before any request",
    "plugins/billing/cli.py": "the `tenantry billing` commands",
    "core/webhooks/delivery.py": "the webhook worker: one transaction per attempt, committed "
                                 "before the next (`tenantry webhooks deliver`)",
    "plugins/pos/fiscal.py": "the fiscal outbox's delivery: after the document's commit, one "
                             "transaction per record (a request's after-commit work, the "
                             "`tenantry pos retry-fiscal` worker)",
}


def commits_in(source: str) -> list[int]:
    """Line numbers of ``<anything>.commit()`` calls."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"]


def product_files() -> list[Path]:
    """Core and plugins, without migrations and the test kit (core/testing sets up test data
    outside requests, as a test does)."""
    return sorted(path for folder in ("core", "plugins") for path in (ROOT / folder).rglob("*.py")
                  if "migrations" not in path.parts and "testing" not in path.parts)


def test_the_scan_finds_the_pipelines_commit():
    assert commits_in((ROOT / "core/pipeline.py").read_text())


def test_a_commit_in_a_view_is_reported():
    assert commits_in("def post(self):\n    db.session.commit()\n") == [2]


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_pipeline_and_commands_commit(path):
    relative = str(path.relative_to(ROOT))
    if relative in ALLOWED:
        return
    assert commits_in(path.read_text()) == [], (
        f"{relative} commits: views and services flush; the request pipeline commits "
        "(docs/architecture.md, 'One unit of work')")
