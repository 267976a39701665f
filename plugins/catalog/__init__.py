"""Catalog: products (SKU, barcode, prices, tax rate) and a category tree.

Hookimpls only. The product model (``plugins.catalog.models.Product``) is the catalog's public
surface for the modules that require it (stock, purchasing, sales): they may read it and point
composite foreign keys at it; they never write it.
"""

from core.sdk import Module, hookimpl, plugin_folder


@hookimpl
def tenantry_module():
    return Module(
        key="catalog", name="Catalog", version="1.0.0",
        requires_core=">=1.0,<2",
        description="Products with SKU, barcode, sale price and tax rate, in a category tree")


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.catalog.routes import blp

    return [blp]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)


@hookimpl
def tenantry_console_pages(app):
    from plugins.catalog.console import blp

    return [blp]
