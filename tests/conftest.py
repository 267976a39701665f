"""Test configuration: Tenantry's own fixture modules are listed here (no implicit discovery);
the generic ones (database, app, tenants, clients, console, browser) come from the test kit,
the ``tenantry`` pytest plugin (core/testing), exactly as a plugin author gets them.

The fixtures' vocabulary (one name, one meaning) is tests/fixtures/README.md.
"""

pytest_plugins = [
    "tests.fixtures.apikeys",
    "tests.fixtures.plugins",
    "tests.fixtures.products",
    "tests.fixtures.commerce",
    "tests.fixtures.inventory",
    "tests.fixtures.pgbouncer",
    "tests.fixtures.statement_audit",
]
