"""The purchasing module's report (contributed through ``tenantry_reports_definitions``):

- ``purchases_by_supplier``: goods received per supplier over a date range (receipt dates,
  UTC days): number of receipts, quantity, and the net, tax and gross amounts at the order
  lines' costs and tax rates.

This module is imported only by the hookimpl, which runs only when the reports module (and
so its hookspec) is present.

Amounts are computed per receipt line as the purchasing module computes order lines
(net = quantity x unit_cost rounded to cents; tax = net x rate / 100 rounded to cents), then
summed, so a fully received order adds up to the order's own totals.
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import fields
from sqlalchemy import and_, func, select

from core.sdk import DateRangeSchema, ReportDefinition, db
from plugins.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
    Supplier,
)

COLUMNS = ("supplier_id", "supplier_name", "receipts", "quantity", "net_amount", "tax_amount",
           "total_amount")


class PurchasesBySupplierParameters(DateRangeSchema):
    supplier_id = fields.UUID(metadata={"description": "Only this supplier"})


def purchases_by_supplier(tenant_id: uuid.UUID,
                          parameters: dict[str, Any]) -> list[dict[str, Any]]:
    net = func.round(PurchaseReceiptLine.quantity * PurchaseReceiptLine.unit_cost, 2)
    tax = func.round(net * PurchaseOrderLine.tax_rate / 100, 2)
    lines = (
        select(PurchaseOrder.tenant_id, PurchaseOrder.supplier_id,
               PurchaseReceipt.id.label("receipt_id"), PurchaseReceiptLine.quantity,
               net.label("net"), tax.label("tax"))
        .select_from(PurchaseReceiptLine)
        .join(PurchaseReceipt, and_(PurchaseReceipt.tenant_id == PurchaseReceiptLine.tenant_id,
                                    PurchaseReceipt.id == PurchaseReceiptLine.receipt_id))
        .join(PurchaseOrderLine,
              and_(PurchaseOrderLine.tenant_id == PurchaseReceiptLine.tenant_id,
                   PurchaseOrderLine.id == PurchaseReceiptLine.line_id))
        .join(PurchaseOrder, and_(PurchaseOrder.tenant_id == PurchaseReceipt.tenant_id,
                                  PurchaseOrder.id == PurchaseReceipt.order_id))
        .where(PurchaseReceipt.created_at >= parameters["since"],
               PurchaseReceipt.created_at < parameters["until"]))
    if parameters.get("supplier_id") is not None:
        lines = lines.where(PurchaseOrder.supplier_id == parameters["supplier_id"])
    lines = lines.subquery()
    statement = (
        select(Supplier.id.label("supplier_id"), Supplier.name.label("supplier_name"),
               func.count(func.distinct(lines.c.receipt_id)).label("receipts"),
               func.sum(lines.c.quantity).label("quantity"),
               func.sum(lines.c.net).label("net_amount"),
               func.sum(lines.c.tax).label("tax_amount"),
               func.sum(lines.c.net + lines.c.tax).label("total_amount"))
        .join(lines, and_(lines.c.tenant_id == Supplier.tenant_id,
                          lines.c.supplier_id == Supplier.id))
        .group_by(Supplier.id, Supplier.name)
        .order_by(Supplier.name, Supplier.id))
    return [dict(row) for row in db.session.execute(statement).mappings()]


def definitions() -> list[ReportDefinition]:
    return [ReportDefinition(
        name="purchases_by_supplier", title="Purchases by supplier", module="purchasing",
        parameters=PurchasesBySupplierParameters, columns=COLUMNS, run=purchases_by_supplier,
        description="Goods received per supplier between date_from and date_to (receipt "
                    "dates, UTC): receipts, quantity, net, tax and total amounts")]
