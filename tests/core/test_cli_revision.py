"""``tenantry db revision --module KEY`` in a subprocess, on a copy of the source tree (so the
repository is never modified) and a fresh database: the revision lands in the module's folder on
its branch's head, autogenerate keeps only the module's tables, ``db heads`` and ``migrate-all``
take it up. Without ``--module``, "Multiple heads" (what authors once got) is replaced by the
command to type."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from core.provisioning import connect_admin
from tests.core.commandline import app_env, tenantry

CATALOG_EDIT = """

# Added by the revision test: one new column in catalog, one in core.
from sqlalchemy import Column as _Column  # noqa: E402

Category.__table__.append_column(_Column("revision_test_note", Text, nullable=True))
"""
CORE_EDIT = """

from sqlalchemy import Column as _Column  # noqa: E402

Template.__table__.append_column(_Column("revision_test_flag", Text, nullable=True))
"""


@pytest.fixture
def source_copy(tmp_path) -> Path:
    root = tmp_path / "src"
    for folder in ("core", "plugins", "migrations"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _heads(output: str) -> dict[str, str]:
    """`db heads` lines ("cg0a00000001 (catalog) (head)") as branch -> revision."""
    return {match.group(2): match.group(1)
            for match in re.finditer(r"^(\w+) \((\w+)\)", output, re.MULTILINE)}


def test_a_revision_in_one_module_branch(source_copy, fresh_database, tmp_path):
    env = app_env(fresh_database, tmp_path / "instance", PYTHONPATH=source_copy)

    def run(*args: str):
        return tenantry(*args, env=env, cwd=source_copy, timeout=300)

    migrated = run("migrate-all")
    assert migrated.returncode == 0, migrated.stderr
    heads_before = _heads(run("db", "heads").stdout)
    assert {"core", "catalog"} <= set(heads_before)

    with (source_copy / "plugins" / "catalog" / "models.py").open("a") as models:
        models.write(CATALOG_EDIT)
    with (source_copy / "core" / "models.py").open("a") as models:
        models.write(CORE_EDIT)

    ambiguous = run("db", "revision", "--autogenerate", "-m", "note")
    assert ambiguous.returncode != 0
    assert "--module KEY" in ambiguous.stderr
    assert "Multiple heads" not in ambiguous.stderr

    unknown = run("db", "revision", "--module", "nosuch", "-m", "note")
    assert unknown.returncode != 0
    assert "'nosuch' has no migration branch" in unknown.stderr

    created = run("db", "revision", "--module", "catalog", "--autogenerate",
                  "-m", "category note")
    assert created.returncode == 0, created.stderr
    assert "Left out (not catalog's tables): templates" in created.stdout
    files = list((source_copy / "plugins" / "catalog" / "migrations").glob("*category_note*.py"))
    assert len(files) == 1, created.stdout
    text = files[0].read_text()
    assert f"down_revision = '{heads_before['catalog']}'" in text \
        or f'down_revision = "{heads_before["catalog"]}"' in text
    assert "revision_test_note" in text
    assert "revision_test_flag" not in text  # core's change belongs to core's branch
    assert not list((PROJECT_ROOT / "plugins" / "catalog" / "migrations").glob(
        "*category_note*"))  # the repository is untouched

    heads_after = _heads(run("db", "heads").stdout)
    assert heads_after["catalog"] != heads_before["catalog"]
    assert heads_after["core"] == heads_before["core"]

    upgraded = run("migrate-all")
    assert upgraded.returncode == 0, upgraded.stderr
    assert re.search(r"catalog: upgrading", upgraded.stdout)
    with connect_admin(fresh_database.admin_url) as connection:
        assert connection.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'categories' "
            "AND column_name = 'revision_test_note'").fetchone() is not None
