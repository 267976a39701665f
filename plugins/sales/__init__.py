"""Sales: customers, sales orders (draft -> confirmed -> fulfilled, or cancelled) with line and
order discounts and tax, fulfilment through the stock hook, returns, and the "sale completed"
extension point (``plugins/sales/hookspecs.py``). Prices are computed by
``plugins.sales.pricing`` (docs/sales-and-pos.md).

Hookimpls only.
"""

from core.sdk import Module, WebhookEvent, emit_webhook_event, hookimpl, plugin_folder

MODULE_KEY = "sales"


@hookimpl
def tenantry_module():
    return Module(
        key=MODULE_KEY, name="Sales", version="1.0.0", requires=("catalog",),
        requires_core=">=1.3,<2",
        description="Customers, sales orders with discounts and tax, fulfilment from stock "
                    "and returns")


@hookimpl
def tenantry_add_hookspecs(pluginmanager):
    from plugins.sales import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.sales.routes import blp

    return [blp]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)


@hookimpl
def tenantry_webhook_events():
    return [WebhookEvent("sales.sale.completed",
                         "A sale was completed: a sales order fulfilled or a POS receipt. "
                         "data: the sale (source, id, totals, lines), as the "
                         "tenantry_sales_sale_completed hook describes it")]


@hookimpl
def tenantry_sales_sale_completed(tenant_id, sale, actor):
    # Our own extension point, heard like any other plugin would: the webhook for every sale.
    emit_webhook_event(tenant_id, "sales.sale.completed", sale)


@hookimpl
def tenantry_reports_definitions():
    from plugins.sales.reports import definitions

    return definitions()
