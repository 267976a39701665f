"""The stock module's reports (contributed through ``tenantry_reports_definitions``):

- ``stock_valuation``: quantity on hand per product and location, valued at the product's
  moving-average unit cost (``quantity x average_cost``, rounded to cents);
- ``low_stock``: active products whose quantity on hand is at or below a threshold, including
  products that never had stock.

Read-only queries through ``db.session`` in the request's transaction: RLS confines them to
the tenant.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import and_, func, literal, select

from core.sdk import ReportDefinition, Unprocessable, db, quantity_field
from plugins.catalog.api import Product
from plugins.stock.models import Location, StockBalance, StockCost

_QUANTITY_STEP = Decimal("0.001")


def _require_location(location_id: uuid.UUID | None) -> None:
    if location_id is None:
        return
    if db.session.execute(select(Location.id).where(Location.id == location_id)).first() is None:
        # Another tenant's location is invisible too (RLS): same answer, nothing leaks.
        raise Unprocessable("invalid report parameters",
                            {"query": {"location_id": ["no such stock location"]}})


# --------------------------------------------------------------------------- valuation


class StockValuationParameters(Schema):
    location_id = fields.UUID(metadata={"description": "Only this location (default: all)"})
    include_zero = fields.Boolean(load_default=False, metadata={
        "description": "true: also list product/location pairs with nothing on hand"})


VALUATION_COLUMNS = ("product_id", "sku", "product_name", "location_id", "location_code",
                     "location_name", "quantity", "average_cost", "value")


def stock_valuation(tenant_id: uuid.UUID, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    location_id = parameters.get("location_id")
    _require_location(location_id)
    average_cost = func.coalesce(StockCost.average_cost, literal(Decimal("0.0000")))
    statement = (
        select(Product.id.label("product_id"), Product.sku, Product.name.label("product_name"),
               Location.id.label("location_id"), Location.code.label("location_code"),
               Location.name.label("location_name"), StockBalance.quantity,
               average_cost.label("average_cost"),
               func.round(StockBalance.quantity * average_cost, 2).label("value"))
        .select_from(StockBalance)
        .join(Product, and_(Product.tenant_id == StockBalance.tenant_id,
                            Product.id == StockBalance.product_id))
        .join(Location, and_(Location.tenant_id == StockBalance.tenant_id,
                             Location.id == StockBalance.location_id))
        .outerjoin(StockCost, and_(StockCost.tenant_id == StockBalance.tenant_id,
                                   StockCost.product_id == StockBalance.product_id))
        .order_by(Product.sku, Location.code))
    if location_id is not None:
        statement = statement.where(StockBalance.location_id == location_id)
    if not parameters["include_zero"]:
        statement = statement.where(StockBalance.quantity != 0)
    return [dict(row) for row in db.session.execute(statement).mappings()]


# --------------------------------------------------------------------------- low stock


class LowStockParameters(Schema):
    threshold = quantity_field(load_default=Decimal("0"), validate=validate.Range(min=0),
                               metadata={"description": "List products with at most this "
                                                        "quantity on hand (default 0: out of "
                                                        "stock)"})
    location_id = fields.UUID(metadata={"description": "Quantity at this location (default: "
                                                       "all locations)"})


LOW_STOCK_COLUMNS = ("product_id", "sku", "product_name", "quantity", "threshold")


def low_stock(tenant_id: uuid.UUID, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    location_id = parameters.get("location_id")
    _require_location(location_id)
    threshold = parameters["threshold"].quantize(_QUANTITY_STEP)
    on_hand = (select(StockBalance.tenant_id, StockBalance.product_id,
                      func.sum(StockBalance.quantity).label("quantity"))
               .group_by(StockBalance.tenant_id, StockBalance.product_id))
    if location_id is not None:
        on_hand = on_hand.where(StockBalance.location_id == location_id)
    on_hand = on_hand.subquery()
    # Same scale as stored quantities, so a product never stocked shows "0.000" like others.
    quantity = func.coalesce(on_hand.c.quantity, literal(_QUANTITY_STEP * 0))
    statement = (
        select(Product.id.label("product_id"), Product.sku, Product.name.label("product_name"),
               quantity.label("quantity"))
        .outerjoin(on_hand, and_(on_hand.c.tenant_id == Product.tenant_id,
                                 on_hand.c.product_id == Product.id))
        .where(Product.active.is_(True), quantity <= threshold)
        .order_by(quantity, Product.sku))
    return [{**row, "threshold": threshold}
            for row in db.session.execute(statement).mappings()]


def definitions() -> list[ReportDefinition]:
    return [
        ReportDefinition(
            name="stock_valuation", title="Stock on hand with valuation", module="stock",
            parameters=StockValuationParameters, columns=VALUATION_COLUMNS, run=stock_valuation,
            description="Quantity on hand per product and location, valued at the product's "
                        "moving-average unit cost (value = quantity x average_cost, rounded "
                        "to cents)"),
        ReportDefinition(
            name="low_stock", title="Low stock", module="stock", parameters=LowStockParameters,
            columns=LOW_STOCK_COLUMNS, run=low_stock,
            description="Active products whose quantity on hand (all locations, or one) is at "
                        "or below the threshold, lowest first; products never stocked count "
                        "as 0"),
    ]
