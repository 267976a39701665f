"""tenantry-loyalty: loyalty points per customer, earned by completed sales (hookimpls only)."""

from core.sdk import Module, Setting, hookimpl, integer_at_least, plugin_folder

MODULE_KEY = "loyalty"


@hookimpl
def tenantry_module():
    return Module(key=MODULE_KEY, name="Loyalty", version="0.1.0", requires=("sales",),
                  requires_core=">=1.0,<2",
                  description="Loyalty points per customer, earned by completed sales")


@hookimpl
def tenantry_settings():
    return [Setting("LOYALTY_POINTS_PER_UNIT", integer_at_least(0), default=1,
                    help="loyalty points a customer earns per whole unit of a sale's total")]


@hookimpl
def tenantry_sales_sale_completed(tenant_id, sale, actor):
    from tenantry_loyalty.services import credit_sale

    credit_sale(tenant_id, sale)


@hookimpl
def tenantry_register_blueprints(app, api):
    from tenantry_loyalty.routes import blp

    return [blp]


@hookimpl
def tenantry_console_pages(app):
    from tenantry_loyalty.console import blp

    return [blp]


@hookimpl
def tenantry_reports_definitions():
    from tenantry_loyalty.reports import definitions

    return definitions()


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)
