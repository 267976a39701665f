"""Stock: locations, an append-only move ledger, balances, counts, transfers and moving-average
costs. Other modules post moves through the ``tenantry_stock_post_moves`` hook
(``plugins/stock/hookspecs.py``, docs/stock.md).

Hookimpls only.
"""

from core.sdk import LedgerChain, Module, Unprocessable, hookimpl, plugin_folder


@hookimpl
def tenantry_module():
    return Module(
        key="stock", name="Stock", version="1.0.0", requires=("catalog",),
        requires_core=">=1.2,<2",
        # Made by migration st0a00000002 (docs/stock.md).
        ledger_chains=(LedgerChain("stock_moves", "stock_moves", "Stock moves"),),
        features={"allow_negative_stock": False},
        description="Stock locations, an append-only move ledger, balances, counts, transfers "
                    "and moving-average costs")


@hookimpl
def tenantry_add_hookspecs(pluginmanager):
    from plugins.stock import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.stock.routes import blp

    return [blp]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)


@hookimpl
def tenantry_module_enabled(tenant_id, module_key, features):
    if module_key == "stock":
        from plugins.stock.services import ensure_default_location

        ensure_default_location(tenant_id)


@hookimpl
def tenantry_stock_post_moves(tenant_id, moves, actor):
    from marshmallow import ValidationError

    from plugins.stock import services
    from plugins.stock.schemas import StockMoveSchema

    try:
        requests = [services.MoveRequest(**m) for m in StockMoveSchema(many=True).load(moves)]
    except ValidationError as exc:
        errors = {str(index): messages for index, messages in exc.messages.items()} \
            if isinstance(exc.messages, dict) else exc.messages
        raise Unprocessable("invalid stock moves", {"moves": errors}) from exc
    posted = services.post_moves(tenant_id, requests, actor,
                                 allow_negative=services.negative_stock_allowed(tenant_id))
    return [services.move_as_dict(move) for move in posted]


@hookimpl
def tenantry_stock_on_hand(tenant_id, product_ids, location_id):
    from plugins.stock.services import on_hand

    return on_hand(product_ids, location_id)


@hookimpl
def tenantry_stock_location_exists(tenant_id, location_id):
    from plugins.stock.services import location_exists

    return location_exists(tenant_id, location_id)


@hookimpl
def tenantry_reports_definitions():
    from plugins.stock.reports import definitions

    return definitions()


@hookimpl
def tenantry_console_pages(app):
    from plugins.stock.console import blp

    return [blp]
