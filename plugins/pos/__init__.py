"""POS: cash registers, cashier shifts (opening float, cash in/out, X and Z reports), receipts
with cash/card payments and refunds, and the cash-register provider extension point
(``plugins/pos/hookspecs.py``) with the built-in ``mock`` and ``unavailable`` providers.

Hookimpls only.
"""

from core.sdk import (
    LedgerChain,
    Module,
    ModuleData,
    Setting,
    WebhookEvent,
    hookimpl,
    plain_text,
    plugin_folder,
)

MODULE_KEY = "pos"


@hookimpl
def tenantry_module():
    return Module(
        key=MODULE_KEY, name="Point of sale", version="1.0.0", requires=("catalog", "sales"),
        requires_core=">=1.3,<2",
        # Made by migration po0a00000005 (docs/sales-and-pos.md, "Hash-chained records").
        ledger_chains=(
            LedgerChain("pos_receipts", "pos_receipts", "Receipts, per register",
                        scope_column="register_id"),
            LedgerChain("pos_refunds", "pos_refunds", "Refunds"),
            LedgerChain("pos_shift_closings", "pos_shifts", "Shift closings (Z reports)",
                        chained="d.status = 'closed'")),
        description="Cash registers, cashier shifts with X/Z reports, receipts, refunds and "
                    "fiscal registration through a cash-register provider")


@hookimpl
def tenantry_settings():
    # Any name: providers are offered by plugins through a hook, so which names exist is known
    # only once the app's plugin manager is built, after settings are loaded.
    return [Setting("CASH_REGISTER_PROVIDER", plain_text, default="mock",
                    help="fallback cash-register provider when a tenant has none configured")]


@hookimpl
def tenantry_add_hookspecs(pluginmanager):
    from plugins.pos import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.pos.routes import blp

    return [blp]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)


@hookimpl
def tenantry_register_commands(cli):
    from plugins.pos.cli import pos_group

    cli.add_command(pos_group)


@hookimpl
def tenantry_pos_cash_register_providers():
    from plugins.pos.providers.mock import MockProvider
    from plugins.pos.providers.unavailable import UnavailableProvider

    return [MockProvider(), UnavailableProvider()]


@hookimpl
def tenantry_module_data():
    # A register's stock location is a soft reference (POS does not require stock): purging
    # stock's data must wait until no register names one of its locations.
    return ModuleData(references={"stock": ("pos_registers.location_id",)})


@hookimpl
def tenantry_webhook_events():
    return [WebhookEvent("pos.receipt.refunded",
                         "Goods and money were given back against a receipt. data: id, "
                         "receipt_id, register_id, method, reason, total, created_at, lines "
                         "(sales are sent as sales.sale.completed)")]


@hookimpl
def tenantry_console_pages(app):
    from plugins.pos.console import blp

    return [blp]


@hookimpl
def tenantry_reports_definitions():
    from plugins.pos.reports import definitions

    return definitions()


@hookimpl
def tenantry_metrics_collectors(app):
    from plugins.pos.metrics import FiscalBacklogCollector

    return [FiscalBacklogCollector()]
