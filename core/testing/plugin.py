"""The pytest plugin ``tenantry`` (entry point ``pytest11``): registers the test kit's fixtures
(core/testing/__init__.py lists them) in every test suite of an environment where Tenantry is
installed. Nothing runs until a test asks for a fixture, except one setting: each test process
gets its own password-hashing slots (``PASSWORD_HASH_SLOT_DIR``, inherited by the servers tests
start), so parallel test workers' logins never take each other's slots and answer 503."""

import os
import tempfile

from core.testing.app import app, app_context, client, platform, platform_admin, tenantry_settings
from core.testing.browser import browser, open_page, serve
from core.testing.console import console_as, platform_console
from core.testing.database import admin_connection, database, fresh_database, server_admin_url
from core.testing.tenants import make_tenant, other_tenant, tenant

__all__ = [
    "admin_connection", "app", "app_context", "browser", "client", "console_as", "database",
    "fresh_database", "make_tenant", "open_page", "other_tenant", "platform", "platform_admin",
    "platform_console", "serve", "server_admin_url", "tenant", "tenantry_settings",
]


def pytest_configure(config):
    # Every test process (each xdist worker too, which would inherit the controller's).
    os.environ["PASSWORD_HASH_SLOT_DIR"] = tempfile.mkdtemp(prefix="tenantry-hash-slots-")
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium through Playwright (core/testing/browser.py)")
