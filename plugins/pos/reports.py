"""Reports the POS module contributes (``tenantry_reports_definitions``).

- ``pos_sales_by_day``: receipts and refunds per UTC day (by ``created_at``), net of refunds.
- ``pos_top_products``: products by net revenue of receipts in the range, less refunds of
  those receipts' lines.
- ``pos_shift_report``: one shift's X report (open) or Z report (closed), as one row.

Read-only, through the request's tenant-scoped session (RLS applies). The SQL of the first two
is the sales module's ``NetSalesTables`` (``plugins.sales.api``), the same as its own reports'.
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema, fields

from core.sdk import DateRangeSchema, Unprocessable
from plugins.sales.api import NetSalesTables, TopProductsSchema

ROLES = ("owner", "admin")
SHIFT_COLUMNS = ("kind", "shift_id", "register_id", "status", "opened_at", "opened_by",
                 "closed_at", "closed_by", "opening_float", "receipts", "sales_subtotal",
                 "sales_discount_total", "sales_tax_total", "sales_total", "sales_cash",
                 "sales_card", "refunds", "refunds_total", "refunds_cash", "refunds_card",
                 "net_total", "cash_in", "cash_out", "expected_cash", "counted_cash",
                 "difference")


class ShiftReportParameters(Schema):
    shift_id = fields.UUID(required=True)


RECEIPTS = NetSalesTables(
    documents="pos_receipts", sold_at="occurred_at", sold_status=None,
    lines="pos_receipt_lines", line_document="receipt_id",
    given_back="pos_refunds", given_back_lines="pos_refund_lines",
    given_back_line="receipt_line_id",
    documents_word="receipts", given_back_word="refunds", given_back_past="refunded")


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
            run=RECEIPTS.run_by_day, roles=ROLES, description="Receipts and refunds per UTC day"),
        ReportDefinition(
            name="pos_top_products", title="Top products (POS)", module="pos",
            parameters=TopProductsSchema,
            columns=("product_id", "sku", "name", "quantity", "refunded_quantity",
                     "net_quantity", "revenue", "refunded_amount", "net_revenue"),
            run=RECEIPTS.run_top_products, roles=ROLES,
            description="Products by net revenue of receipts"),
        ReportDefinition(
            name="pos_shift_report", title="Shift X/Z report", module="pos",
            parameters=ShiftReportParameters, columns=SHIFT_COLUMNS, run=shift,
            roles=("owner", "admin", "cashier"),
            description="A shift's totals: X report while open, Z report once closed"),
    ]
