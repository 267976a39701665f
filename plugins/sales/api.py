"""The sales module's public interface: what a module that ``requires`` sales may call.

Today, each shared by sales (orders, returns) and POS (receipts, refunds):

- the pricing arithmetic: ``price`` a document of ``LineInput`` lines with discounts, exact to
  the cent;
- ``lines_to_sell``: the lines of a document to sell, products checked, unit price and
  discount filled in;
- ``lines_to_give_back``: the check and pricing of lines given back against a sold document;
- ``NetSalesTables`` (with its ``TopProductsSchema``): the SQL of the reports of what was sold,
  net of what was given back;
- ``DiscountSchema``: a document's or a line's discount (percent up to 100, or an amount).

Anything else in this package is internal to sales.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import bindparam, select

from core.sdk import Unprocessable, db
from plugins.catalog.api import Product
from plugins.sales.pricing import (
    LineInput,
    PricedDocument,
    discount_from,
    price,
    refund_share,
)
from plugins.sales.report_queries import NetSalesTables, TopProductsSchema
from plugins.sales.schemas import DiscountSchema

__all__ = ["DiscountSchema", "LineInput", "NetSalesTables", "PricedDocument", "SoldLine",
           "TopProductsSchema", "discount_from", "lines_to_give_back", "lines_to_sell", "price"]


_PRODUCTS = select(Product).where(Product.id.in_(bindparam("ids", expanding=True)))  # built once


def lines_to_sell(lines: Sequence[Mapping[str, Any]], *, document: str,
                  ) -> list[dict[str, Any]]:
    """The column values of each requested line of a document to sell, in request order.

    ``lines`` items name a ``product_id`` and a ``quantity``, optionally a ``unit_price`` (the
    product's sale price otherwise) and a line ``discount`` (``kind``, ``value``). Each result
    holds ``line_no`` (from 1), ``product_id``, ``description`` (the product's name: documents
    keep what was sold), ``quantity``, ``unit_price``, ``tax_rate``, ``discount_kind`` and
    ``discount_value``. One 422 ("invalid <document> lines") lists every line whose product this
    tenant does not have (RLS hides other tenants') or has deactivated.
    """
    ids = {line["product_id"] for line in lines}
    found = {p.id: p for p in db.session.execute(
        _PRODUCTS, {"ids": list(ids)}).scalars()} if ids else {}
    errors = {}
    for index, line in enumerate(lines):
        product = found.get(line["product_id"])
        if product is None:
            errors[str(index)] = {"product_id": ["unknown product"]}
        elif not product.active:
            errors[str(index)] = {"product_id": ["product is inactive"]}
    if errors:
        raise Unprocessable(f"invalid {document} lines", {"lines": errors})
    values = []
    for number, line in enumerate(lines, start=1):
        product = found[line["product_id"]]
        unit_price, discount = line.get("unit_price"), line.get("discount")
        values.append({
            "line_no": number, "product_id": product.id, "description": product.name,
            "quantity": line["quantity"],
            "unit_price": product.sale_price if unit_price is None else unit_price,
            "tax_rate": product.tax_rate,
            "discount_kind": discount["kind"] if discount else None,
            "discount_value": discount["value"] if discount else None})
    return values


class SoldLine(Protocol):
    """A line of a sold document (an order line, a receipt line)."""

    id: uuid.UUID
    quantity: Decimal
    total: Decimal


def lines_to_give_back(sold: Sequence[SoldLine], requested: Sequence[Mapping[str, Any]],
                       already: Mapping[uuid.UUID, tuple[Decimal, Decimal]], *,
                       line_field: str, document: str, verb: str,
                       ) -> list[tuple[Any, Decimal, Decimal]]:
    """Each requested line as (sold line, quantity, amount to give back), in request order.

    ``requested`` items name a sold line in ``line_field`` and a ``quantity``; ``already`` maps
    a sold line id to the (quantity, amount) given back before. One 422 ("invalid <verb>
    lines") lists every item that names no line of the ``document``, names one twice or asks
    for more than remains to ``verb``. Amounts are ``pricing.refund_share``: pro rata, and the
    last units give back exactly what is left of the line total.
    """
    by_id = {line.id: line for line in sold}
    errors: dict[str, Any] = {}
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(requested):
        line = by_id.get(item[line_field])
        done = already.get(line.id, (Decimal("0"), Decimal("0")))[0] if line else None
        if line is None:
            errors[str(index)] = {line_field: [f"not a line of this {document}"]}
        elif line.id in seen:
            errors[str(index)] = {line_field: ["listed twice"]}
        elif done + item["quantity"] > line.quantity:
            errors[str(index)] = {"quantity": [
                f"more than remains to {verb} ({line.quantity - done})"]}
        if line is not None:
            seen.add(line.id)
    if errors:
        raise Unprocessable(f"invalid {verb} lines", {"lines": errors})
    given = []
    for item in requested:
        line = by_id[item[line_field]]
        done_quantity, done_amount = already.get(line.id, (Decimal("0"), Decimal("0")))
        given.append((line, item["quantity"], refund_share(
            line.total, line.quantity, item["quantity"], done_quantity, done_amount)))
    return given
