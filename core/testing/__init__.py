"""Tenantry's test kit: what a plugin's test suite needs to test against a real Tenantry, and
what Tenantry's own suite uses, so the two cannot drift apart.

Installed with Tenantry as the pytest plugin ``tenantry`` (entry point ``pytest11``,
``core/testing/plugin.py``): its fixtures are available in any test suite of an environment
where Tenantry is installed. See docs/plugin-authoring.md, "Testing your plugin".

Fixtures: ``database`` (a real PostgreSQL: embedded, or the server of ``TEST_DATABASE_URL``),
``fresh_database``, ``admin_connection``, ``tenantry_settings`` (override to add settings),
``app`` (every installed plugin, migrated once), ``client``, ``platform``, ``platform_admin``,
``make_tenant(modules=[...])`` → ``TenantHandle`` (``as_role``, ``as_api_key``, ``anonymous``),
``tenant``, ``other_tenant``, ``console_as``, ``platform_console``; browser tests: ``serve``,
``browser``, ``open_page``.

Helpers: ``table_problems`` / ``module_tables`` / ``route_problems`` (core/testing/isolation.py)
check a module's tables and routes against the isolation rules.
"""

from core.testing.app import (
    BOOTSTRAP_TOKEN,
    PLATFORM_EMAIL,
    PLATFORM_HOST,
    PLATFORM_PASSWORD,
    ROOT_DOMAIN,
    HostClient,
    app_config,
)
from core.testing.console import ConsoleClient, form_token
from core.testing.isolation import module_tables, route_problems, table_problems, tenant_tables
from core.testing.tenants import PASSWORD, TenantHandle

__all__ = [
    "BOOTSTRAP_TOKEN", "PASSWORD", "PLATFORM_EMAIL", "PLATFORM_HOST", "PLATFORM_PASSWORD",
    "ROOT_DOMAIN", "ConsoleClient", "HostClient", "TenantHandle", "app_config", "form_token",
    "module_tables", "route_problems", "table_problems", "tenant_tables",
]
