"""The external example plugin, examples/loyalty, tested as its author would: installed with
pip (into a folder of its own), migrated with ``tenantry migrate-all``, checked with ``tenantry
db check``, and its own tests run in its own folder through the test kit alone — Tenantry's
conftest and fixtures are not on that run's path."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.core.test_scaffold import install_apart, migrate_check_and_test

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "loyalty"


def test_the_loyalty_example_passes_its_own_tests(tmp_path, fresh_database, server_admin_url):
    copy = tmp_path / "loyalty"  # a build writes into the source folder: work on a copy
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                 "__pycache__"))
    install_apart(copy, tmp_path / "site")
    output = migrate_check_and_test("loyalty", copy, tmp_path / "site", fresh_database,
                                    server_admin_url, tmp_path / "instance")
    assert "6 passed" in output
