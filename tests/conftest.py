"""Test configuration: every fixture module is listed here (no implicit discovery)."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.tenants",
    "tests.fixtures.apikeys",
    "tests.fixtures.plugins",
    "tests.fixtures.commerce",
    "tests.fixtures.inventory",
    "tests.fixtures.pgbouncer",
]
