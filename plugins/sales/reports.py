"""Reports the sales module contributes (``tenantry_reports_definitions``).

- ``sales_by_day``: fulfilled orders per UTC day (by ``fulfilled_at``) with their amounts, and
  returns per UTC day (by their ``created_at``); ``net_total = total - returned``.
- ``sales_top_products``: products by net revenue of fulfilled orders in the range (line
  totals, less what returns of those lines gave back).

Both take ``date_from``/``date_to`` (inclusive UTC days, at most 366 days: the reports module's
``DateRangeSchema``).
They read through the request's tenant-scoped session: RLS applies.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import text

from core.sdk import DateRangeSchema, db

ROLES = ("owner", "admin")


class TopProductsSchema(DateRangeSchema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100),
                           metadata={"description": "How many products (1 to 100)"})


def bounds(params: dict[str, Any]) -> dict[str, datetime]:
    """``[start, end)`` timestamps of the inclusive UTC date range."""
    return {"start": params["since"], "end": params["until"]}


_BY_DAY = text("""
    WITH orders AS (
        SELECT (fulfilled_at AT TIME ZONE 'UTC')::date AS day, count(*) AS orders,
               sum(subtotal) AS subtotal, sum(discount_total) AS discount_total,
               sum(tax_total) AS tax_total, sum(total) AS total
          FROM sales_orders
         WHERE status = 'fulfilled' AND fulfilled_at >= :start AND fulfilled_at < :end
         GROUP BY 1
    ), returns AS (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS returns,
               sum(total) AS returned
          FROM sales_returns
         WHERE created_at >= :start AND created_at < :end
         GROUP BY 1
    )
    SELECT COALESCE(o.day, r.day) AS day, COALESCE(o.orders, 0) AS orders,
           COALESCE(o.subtotal, 0) AS subtotal, COALESCE(o.discount_total, 0) AS discount_total,
           COALESCE(o.tax_total, 0) AS tax_total, COALESCE(o.total, 0) AS total,
           COALESCE(r.returns, 0) AS returns, COALESCE(r.returned, 0) AS returned,
           COALESCE(o.total, 0) - COALESCE(r.returned, 0) AS net_total
      FROM orders o FULL JOIN returns r ON r.day = o.day
     ORDER BY 1
""")

_TOP_PRODUCTS = text("""
    WITH sold AS (
        SELECT l.tenant_id, l.product_id, sum(l.quantity) AS quantity, sum(l.total) AS revenue
          FROM sales_order_lines l
          JOIN sales_orders o ON o.tenant_id = l.tenant_id AND o.id = l.order_id
         WHERE o.status = 'fulfilled' AND o.fulfilled_at >= :start AND o.fulfilled_at < :end
         GROUP BY l.tenant_id, l.product_id
    ), returned AS (
        SELECT rl.product_id, sum(rl.quantity) AS quantity, sum(rl.amount) AS amount
          FROM sales_return_lines rl
          JOIN sales_order_lines l ON l.tenant_id = rl.tenant_id AND l.id = rl.order_line_id
          JOIN sales_orders o ON o.tenant_id = l.tenant_id AND o.id = l.order_id
         WHERE o.status = 'fulfilled' AND o.fulfilled_at >= :start AND o.fulfilled_at < :end
         GROUP BY rl.product_id
    )
    SELECT s.product_id, p.sku, p.name, s.quantity,
           COALESCE(r.quantity, 0) AS returned_quantity,
           s.quantity - COALESCE(r.quantity, 0) AS net_quantity, s.revenue,
           COALESCE(r.amount, 0) AS returned_amount,
           s.revenue - COALESCE(r.amount, 0) AS net_revenue
      FROM sold s
      JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
      LEFT JOIN returned r ON r.product_id = s.product_id
     ORDER BY net_revenue DESC, p.sku
     LIMIT :limit
""")


def sales_by_day(tenant_id: uuid.UUID, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in db.session.execute(_BY_DAY, bounds(params))]


def top_products(tenant_id: uuid.UUID, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = db.session.execute(_TOP_PRODUCTS, {**bounds(params), "limit": params["limit"]})
    return [dict(row._mapping) for row in rows]


def definitions() -> list:
    from core.sdk import ReportDefinition

    return [
        ReportDefinition(
            name="sales_by_day", title="Sales by day", module="sales",
            parameters=DateRangeSchema,
            columns=("day", "orders", "subtotal", "discount_total", "tax_total", "total",
                     "returns", "returned", "net_total"),
            run=sales_by_day, roles=ROLES,
            description="Fulfilled sales orders and returns per UTC day"),
        ReportDefinition(
            name="sales_top_products", title="Top products (sales orders)", module="sales",
            parameters=TopProductsSchema,
            columns=("product_id", "sku", "name", "quantity", "returned_quantity",
                     "net_quantity", "revenue", "returned_amount", "net_revenue"),
            run=top_products, roles=ROLES,
            description="Products by net revenue of fulfilled sales orders"),
    ]
