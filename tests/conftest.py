"""Test configuration: every fixture module is listed here (no implicit discovery).

The fixtures' vocabulary (one name, one meaning) is tests/fixtures/README.md.
"""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.tenants",
    "tests.fixtures.apikeys",
    "tests.fixtures.plugins",
    "tests.fixtures.products",
    "tests.fixtures.commerce",
    "tests.fixtures.inventory",
    "tests.fixtures.pgbouncer",
    "tests.fixtures.console",
    "tests.fixtures.browser",
]
