"""No Python file in the repository sets ``app.*`` for a whole database session.

The tenant scope must be transaction-local (``SET LOCAL app.tenant_id``, which Citus propagates
to its workers, or ``set_config('app.x', ..., true)``), so that a pooled connection (or
pgbouncer in transaction mode) never carries one tenant's scope into another's transaction.
``SET app.x``, ``SET SESSION ...`` and ``set_config('app.x', ..., false)`` are refused wherever
they appear, tests and plugins included.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SKIPPED_FOLDERS = {".git", ".tox", ".venv", "venv", "node_modules", "instance", "build", "dist",
                   "__pycache__", ".ruff_cache", ".pytest_cache"}

FORBIDDEN = [
    re.compile(r"\bSET\s+(?:SESSION\s+)?\"?app\.\w+\"?\s*(?:=|\bTO\b)", re.IGNORECASE),
    re.compile(r"\bSET\s+SESSION\b", re.IGNORECASE),
    re.compile(r"set_config\s*\(\s*['\"]app\.[^'\"]*['\"]\s*,[^,()]*,\s*(?:false|0|:\w+)\s*\)",
               re.IGNORECASE),
]


def offending_lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines()
            if any(pattern.search(line) for pattern in FORBIDDEN)]


def python_files() -> list[Path]:
    this_file = Path(__file__).resolve()
    return [path for path in REPOSITORY.rglob("*.py")
            if not SKIPPED_FOLDERS.intersection(path.relative_to(REPOSITORY).parts)
            and path.resolve() != this_file]


@pytest.mark.parametrize("snippet", [
    "SET app.tenant_id = 'x'",
    'text("set app.tenant_id to :tid")',
    "SET SESSION app.tenant_id = '1'",
    "SET SESSION AUTHORIZATION someone",
    'SET "app.tenant_id" TO DEFAULT',
    "SELECT set_config('app.tenant_id', :tid, false)",
    "SELECT set_config('app.tenant_id', '1', FALSE)",
    "SELECT set_config('app.tenant_id', :tid, :is_local)",
])
def test_the_detector_finds_session_level_settings(snippet):
    assert offending_lines(f"x = 1\n{snippet}\n") == [snippet]


@pytest.mark.parametrize("snippet", [
    "SELECT set_config('app.tenant_id', :tenant_id, true)",
    "SET LOCAL app.tenant_id = '6b1f0c1e-0000-4000-8000-000000000000'",
    "SELECT set_config('app.tenant_id', '', TRUE)",
    "current_setting('app.tenant_id', true)",
    "# never a session-level SET, so pgbouncer works",
    "UPDATE users SET email = :email",
])
def test_the_detector_lets_transaction_local_settings_pass(snippet):
    assert offending_lines(snippet) == []


def test_no_python_file_sets_app_settings_for_a_session():
    files = python_files()
    assert any(path.name == "rls.py" and path.parent.name == "core" for path in files)
    found = {}
    for path in files:
        lines = offending_lines(path.read_text(encoding="utf-8", errors="replace"))
        if lines:
            found[str(path.relative_to(REPOSITORY))] = lines
    assert found == {}, ("only transaction-local settings (SET LOCAL app.…, or "
                         f"set_config('app.…', …, true)) are allowed: {found}")
