"""Purchasing: suppliers, purchase orders (draft -> ordered -> partially received -> received,
or cancelled) and receipts that post stock through the stock module's hook.

Hookimpls only.
"""

from core.sdk import Module, hookimpl, plugin_folder


@hookimpl
def tenantry_module():
    return Module(
        key="purchasing", name="Purchasing", version="1.0.0", requires=("catalog", "stock"),
        requires_core=">=1.0,<2",
        features={"allow_over_receipt": False},
        description="Suppliers, purchase orders and receiving into stock at cost")


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.purchasing.routes import blp

    return [blp]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)


@hookimpl
def tenantry_reports_definitions():
    from plugins.purchasing.reports import definitions

    return definitions()


@hookimpl
def tenantry_console_pages(app):
    from plugins.purchasing.console import blp

    return [blp]
