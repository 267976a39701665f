"""Reports the sales module contributes (``tenantry_reports_definitions``).

- ``sales_by_day``: fulfilled orders per UTC day (by ``fulfilled_at``) with their amounts, and
  returns per UTC day (by their ``created_at``); ``net_total = total - returned``.
- ``sales_top_products``: products by net revenue of fulfilled orders in the range (line
  totals, less what returns of those lines gave back).

Both take ``date_from``/``date_to`` (inclusive UTC days, at most 366 days: the reports module's
``DateRangeSchema``).
They read through the request's tenant-scoped session: RLS applies. The SQL is
``report_queries.NetSalesTables``, shared with the POS reports.
"""

from __future__ import annotations

from core.sdk import DateRangeSchema
from plugins.sales.report_queries import NetSalesTables, TopProductsSchema

ROLES = ("owner", "admin")

ORDERS = NetSalesTables(
    documents="sales_orders", sold_at="fulfilled_at", sold_status="fulfilled",
    lines="sales_order_lines", line_document="order_id",
    given_back="sales_returns", given_back_lines="sales_return_lines",
    given_back_line="order_line_id",
    documents_word="orders", given_back_word="returns", given_back_past="returned")


def definitions() -> list:
    from core.sdk import ReportDefinition

    return [
        ReportDefinition(
            name="sales_by_day", title="Sales by day", module="sales",
            parameters=DateRangeSchema,
            columns=("day", "orders", "subtotal", "discount_total", "tax_total", "total",
                     "returns", "returned", "net_total"),
            run=ORDERS.run_by_day, roles=ROLES,
            description="Fulfilled sales orders and returns per UTC day"),
        ReportDefinition(
            name="sales_top_products", title="Top products (sales orders)", module="sales",
            parameters=TopProductsSchema,
            columns=("product_id", "sku", "name", "quantity", "returned_quantity",
                     "net_quantity", "revenue", "returned_amount", "net_revenue"),
            run=ORDERS.run_top_products, roles=ROLES,
            description="Products by net revenue of fulfilled sales orders"),
    ]
