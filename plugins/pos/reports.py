"""Reports the POS module contributes (``tenantry_reports_definitions``).

- ``pos_sales_by_day``: receipts and refunds per UTC day (by ``created_at``), net of refunds.
- ``pos_top_products``: products by net revenue of receipts in the range, less refunds of
  those receipts' lines.
- ``pos_shift_report``: one shift's X report (open) or Z report (closed), as one row.

Read-only, through the request's tenant-scoped session (RLS applies).
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import text

from core.sdk import DateRangeSchema, Unprocessable, db

ROLES = ("owner", "admin")
SHIFT_COLUMNS = ("kind", "shift_id", "register_id", "status", "opened_at", "opened_by",
                 "closed_at", "closed_by", "opening_float", "receipts", "sales_subtotal",
                 "sales_discount_total", "sales_tax_total", "sales_total", "sales_cash",
                 "sales_card", "refunds", "refunds_total", "refunds_cash", "refunds_card",
                 "net_total", "cash_in", "cash_out", "expected_cash", "counted_cash",
                 "difference")


class TopProductsSchema(DateRangeSchema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100),
                           metadata={"description": "How many products (1 to 100)"})


class ShiftReportParameters(Schema):
    shift_id = fields.UUID(required=True)


_BY_DAY = text("""
    WITH sold AS (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS receipts,
               sum(subtotal) AS subtotal, sum(discount_total) AS discount_total,
               sum(tax_total) AS tax_total, sum(total) AS total
          FROM pos_receipts WHERE created_at >= :since AND created_at < :until GROUP BY 1
    ), refunded AS (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS refunds,
               sum(total) AS refunded
          FROM pos_refunds WHERE created_at >= :since AND created_at < :until GROUP BY 1
    )
    SELECT COALESCE(s.day, r.day) AS day, COALESCE(s.receipts, 0) AS receipts,
           COALESCE(s.subtotal, 0) AS subtotal, COALESCE(s.discount_total, 0) AS discount_total,
           COALESCE(s.tax_total, 0) AS tax_total, COALESCE(s.total, 0) AS total,
           COALESCE(r.refunds, 0) AS refunds, COALESCE(r.refunded, 0) AS refunded,
           COALESCE(s.total, 0) - COALESCE(r.refunded, 0) AS net_total
      FROM sold s FULL JOIN refunded r ON r.day = s.day
     ORDER BY 1
""")

_TOP_PRODUCTS = text("""
    WITH sold AS (
        SELECT l.tenant_id, l.product_id, sum(l.quantity) AS quantity, sum(l.total) AS revenue
          FROM pos_receipt_lines l
          JOIN pos_receipts r ON r.tenant_id = l.tenant_id AND r.id = l.receipt_id
         WHERE r.created_at >= :since AND r.created_at < :until
         GROUP BY l.tenant_id, l.product_id
    ), refunded AS (
        SELECT fl.product_id, sum(fl.quantity) AS quantity, sum(fl.amount) AS amount
          FROM pos_refund_lines fl
          JOIN pos_receipt_lines l ON l.tenant_id = fl.tenant_id AND l.id = fl.receipt_line_id
          JOIN pos_receipts r ON r.tenant_id = l.tenant_id AND r.id = l.receipt_id
         WHERE r.created_at >= :since AND r.created_at < :until
         GROUP BY fl.product_id
    )
    SELECT s.product_id, p.sku, p.name, s.quantity,
           COALESCE(f.quantity, 0) AS refunded_quantity,
           s.quantity - COALESCE(f.quantity, 0) AS net_quantity, s.revenue,
           COALESCE(f.amount, 0) AS refunded_amount,
           s.revenue - COALESCE(f.amount, 0) AS net_revenue
      FROM sold s
      JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
      LEFT JOIN refunded f ON f.product_id = s.product_id
     ORDER BY net_revenue DESC, p.sku
     LIMIT :limit
""")


def sales_by_day(tenant_id: uuid.UUID, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = db.session.execute(_BY_DAY, {"since": params["since"], "until": params["until"]})
    return [dict(row._mapping) for row in rows]


def top_products(tenant_id: uuid.UUID, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = db.session.execute(_TOP_PRODUCTS, {"since": params["since"],
                                              "until": params["until"],
                                              "limit": params["limit"]})
    return [dict(row._mapping) for row in rows]


def shift(tenant_id: uuid.UUID, params: dict[str, Any]) -> list[dict[str, Any]]:
    from core.sdk import NotFound
    from plugins.pos import shifts

    try:
        report = shifts.shift_report(shifts.get_shift(params["shift_id"]))
    except NotFound as exc:  # another tenant's shift is invisible too: same answer
        raise Unprocessable("invalid report parameters",
                            {"query": {"shift_id": ["no such shift"]}}) from exc
    return [{column: report[column] for column in SHIFT_COLUMNS}]


def definitions() -> list:
    from core.sdk import ReportDefinition

    return [
        ReportDefinition(
            name="pos_sales_by_day", title="POS sales by day", module="pos",
            parameters=DateRangeSchema,
            columns=("day", "receipts", "subtotal", "discount_total", "tax_total", "total",
                     "refunds", "refunded", "net_total"),
            run=sales_by_day, roles=ROLES, description="Receipts and refunds per UTC day"),
        ReportDefinition(
            name="pos_top_products", title="Top products (POS)", module="pos",
            parameters=TopProductsSchema,
            columns=("product_id", "sku", "name", "quantity", "refunded_quantity",
                     "net_quantity", "revenue", "refunded_amount", "net_revenue"),
            run=top_products, roles=ROLES, description="Products by net revenue of receipts"),
        ReportDefinition(
            name="pos_shift_report", title="Shift X/Z report", module="pos",
            parameters=ShiftReportParameters, columns=SHIFT_COLUMNS, run=shift,
            roles=("owner", "admin", "cashier"),
            description="A shift's totals: X report while open, Z report once closed"),
    ]
