"""Billing: the tenant's plan (free or paid), usage metering of every authenticated tenant API
call, and the free-tier cap on metered actions (runbook 002 "Free Tier Soft Billing Cap").

Hookimpls only. The module is not tenant-toggleable: core enables it for every new tenant and
only the platform switches it. Other modules declare their metered actions through the
``tenantry_billing_metered_endpoints`` hookspec (``plugins/billing/hookspecs.py``).
"""

from core.sdk import Module, Setting, hookimpl, integer_at_least, plugin_folder

MODULE_KEY = "billing"


@hookimpl
def tenantry_module():
    return Module(
        key=MODULE_KEY, name="Billing", version="1.0.0", tenant_toggleable=False,
        requires_core=">=1.0,<2",
        description="Plans (free/paid), API usage metering and the free-tier cap on metered "
                    "actions")


@hookimpl
def tenantry_settings():
    return [Setting("FREE_TIER_LIMIT", integer_at_least(0), default=1000,
                    help="usage count after which free tenants get 402 on metered actions")]


@hookimpl
def tenantry_add_hookspecs(pluginmanager):
    from plugins.billing import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.billing.routes import admin_blp, platform_blp, tenant_blp

    return [admin_blp, (admin_blp, {"url_prefix": "/api/v1", "name": "billing_admin_v1"}),
            tenant_blp, platform_blp]


@hookimpl
def tenantry_console_pages(app):
    from plugins.billing.console import blp, platform_blp

    return [blp, platform_blp]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)


@hookimpl
def tenantry_register_commands(cli):
    from plugins.billing.cli import billing_group

    cli.add_command(billing_group)


@hookimpl
def tenantry_module_enabled(tenant_id, module_key, features):
    if module_key == MODULE_KEY:
        from plugins.billing import services

        services.ensure_account(tenant_id)


@hookimpl
def tenantry_request_authenticated(tenant_id, identity, endpoint, method):
    from plugins.billing.metering import on_authenticated_call

    on_authenticated_call(tenant_id, endpoint, method)


@hookimpl
def tenantry_rate_limit_plan(tenant_id):
    from plugins.billing.metering import rate_limit_plan

    return rate_limit_plan(tenant_id)
