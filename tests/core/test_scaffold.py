"""``tenantry plugins new KEY`` writes a plugin that works as it is: installed with pip, it is
found through its entry point, ``tenantry migrate-all`` creates its branch, ``tenantry db
check`` finds models and migrations equal, and its own tests pass through the test kit alone
(a pytest run in the plugin's folder: no Tenantry conftest).

The plugin is installed into a folder of its own on PYTHONPATH (``pip install --target``), not
into the test environment, which every other test of this run shares.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.scaffold import ScaffoldError, create_plugin
from tests.core.commandline import PYTHON, app_env, base_env, run, tenantry


def test_the_scaffold_refuses_bad_and_taken_keys(tmp_path):
    for key in ("Bad", "x", "1abc", "catalog", "has-dash"):
        with pytest.raises(ScaffoldError):
            create_plugin(key, tmp_path / key)


def test_the_scaffold_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "kept.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="not empty"):
        create_plugin("loyal", tmp_path)


def test_a_bad_key_is_a_clear_error_on_the_command_line(tmp_path):
    result = tenantry("plugins", "new", "Bad-Key", "--directory", str(tmp_path / "x"),
                      env=base_env())
    assert result.returncode == 1
    assert "is not a module key" in result.stderr


def install_apart(distribution: Path, site: Path) -> None:
    """``pip install`` the distribution into ``site`` (put on PYTHONPATH by the caller): a
    plugin installed as pip would, seen only by the subprocesses given that path."""
    installed = subprocess.run(
        [PYTHON, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(distribution)],
        capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr


def migrate_check_and_test(key: str, distribution: Path, site: Path, database,
                           server_admin_url: str, instance: Path) -> str:
    """migrate-all, modules list, db check, then the plugin's own pytest run in its folder;
    returns pytest's output."""
    env = app_env(database, instance, PYTHONPATH=str(site))
    migrated = tenantry("migrate-all", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert key in migrated.stdout
    modules = tenantry("modules", "list", env=env)
    assert any(line.startswith(key) and line.endswith("ready")
               for line in modules.stdout.splitlines()), modules.stdout
    checked = tenantry("db", "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                 base_env(PYTHONPATH=str(site), TEST_DATABASE_URL=server_admin_url),
                 cwd=distribution, timeout=600)
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert " passed" in tested.stdout and "failed" not in tested.stdout
    return tested.stdout


def test_a_new_plugin_installs_migrates_checks_and_passes_its_tests(
        tmp_path, fresh_database, server_admin_url):
    made = tenantry("plugins", "new", "demo_shelf", "--directory", str(tmp_path / "plugin"),
                    env=base_env())
    assert made.returncode == 0, made.stderr
    assert "pyproject.toml" in made.stdout and "tests/test_demo_shelf.py" in made.stdout
    install_apart(tmp_path / "plugin", tmp_path / "site")
    migrate_check_and_test("demo_shelf", tmp_path / "plugin", tmp_path / "site",
                           fresh_database, server_admin_url, tmp_path / "instance")
