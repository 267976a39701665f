"""The plugin SDK (core.sdk) is the documented surface: every exported name exists and is
listed in docs/plugin-authoring.md, and plugin migrations (which import-linter cannot see: their
folders are not packages) import core only through ``core.sdk.migrations``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import core.sdk
import core.sdk.migrations

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugin-authoring.md"


@pytest.mark.parametrize("module", [core.sdk, core.sdk.migrations], ids=lambda m: m.__name__)
def test_every_exported_name_exists_and_is_documented(module):
    text = GUIDE.read_text()
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    undocumented = [name for name in module.__all__
                    if not re.search(rf"`{re.escape(name)}`", text)]
    assert missing == []
    assert undocumented == [], f"docs/plugin-authoring.md does not list {undocumented}"


def test_the_sdk_version_is_semantic():
    assert re.fullmatch(r"\d+\.\d+\.\d+", core.sdk.SDK_VERSION)


def _core_imports(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return [name for name in modules if name == "core" or name.startswith("core.")]


MIGRATIONS = sorted((ROOT / "plugins").glob("*/migrations/*.py"))


def test_the_migrations_are_found():
    assert len(MIGRATIONS) >= 8


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_plugin_migrations_import_core_only_through_the_sdk(path):
    assert set(_core_imports(path)) <= {"core.sdk.migrations"}


def test_a_migration_importing_core_internals_is_reported(tmp_path):
    sample = tmp_path / "20990101_x_bad.py"
    sample.write_text("from core.migration_kit import enable_tenant_rls\n")
    assert set(_core_imports(sample)) - {"core.sdk.migrations"} == {"core.migration_kit"}


EXAMPLE_AND_SCAFFOLD = sorted([*(ROOT / "examples").rglob("*.py"),
                               *(ROOT / "core" / "scaffold" / "template").rglob("*.py.tmpl"),
                               *(ROOT / "tests" / "thirdparty").rglob("*.py")])


def test_the_example_and_scaffold_files_are_found():
    assert len(EXAMPLE_AND_SCAFFOLD) >= 15


@pytest.mark.parametrize("path", EXAMPLE_AND_SCAFFOLD, ids=lambda p: str(p.relative_to(ROOT)))
def test_third_party_code_imports_core_only_through_the_sdk_and_the_kit(path):
    """The example plugin, the scaffold's files and the notes plugin are what third parties
    copy: core.sdk (and core.sdk.migrations), core.testing in tests, nothing else."""
    source = path.read_text().replace("$package", "package").replace("${key}", "key")
    allowed = {"core.sdk", "core.sdk.migrations", "core.testing"}
    assert set(_core_imports_of(source)) <= allowed


def _core_imports_of(source: str) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return [name for name in modules if name == "core" or name.startswith("core.")]
