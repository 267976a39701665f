"""The SQL of the reports of what was sold, net of what was given back: per UTC day, and top
products by net revenue.

Sales (fulfilled orders, less returns) and POS (receipts, less refunds) run the same two
queries over tables of the same shape; ``NetSalesTables`` names one side's tables and the
words its report columns use, and builds both statements, so a fix to the arithmetic or to the
tenant joins is made once. Published through ``plugins.sales.api``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import TextClause, text

from core.sdk import DateRangeSchema, db

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


class TopProductsSchema(DateRangeSchema):
    """A date range and how many products: the parameters of both top-products reports."""

    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100),
                           metadata={"description": "How many products (1 to 100)"})


@dataclass(frozen=True)
class NetSalesTables:
    """One side's tables and column words.

    ``documents`` (with ``lines`` pointing at it through ``line_document``) are what was sold,
    counted on ``sold_at`` and, when ``sold_status`` is set, only in that status;
    ``given_back`` documents (counted on their ``created_at``) with ``given_back_lines``
    pointing at a sold line through ``given_back_line``. ``documents_word``, ``given_back_word``
    and ``given_back_past`` name the report columns (``receipts``, ``refunds``, ``refunded``,
    ``refunded_quantity``...).
    """

    documents: str
    sold_at: str
    sold_status: str | None
    lines: str
    line_document: str
    given_back: str
    given_back_lines: str
    given_back_line: str
    documents_word: str
    given_back_word: str
    given_back_past: str

    def __post_init__(self) -> None:
        # The names are pasted into SQL: only plain identifiers (they come from code, never
        # from a request; the check keeps it so).
        for name, value in vars(self).items():
            if value is not None and not _IDENTIFIER.fullmatch(value):
                raise ValueError(f"{name}: not a plain SQL identifier: {value!r}")

    def _sold_in_range(self, alias: str) -> str:
        # The tenant named beside RLS: the index prefix, and one shard on Citus.
        status = f"{alias}.status = :sold_status AND " if self.sold_status else ""
        return (f"{alias}.tenant_id = :tenant_id AND {status}{alias}.{self.sold_at} >= :since "
                f"AND {alias}.{self.sold_at} < :until")

    def by_day(self) -> TextClause:
        """Sold documents and give-backs per UTC day, with ``net_total = total - <past>``."""
        past = self.given_back_past
        return text(f"""
    WITH sold AS (
        SELECT ({self.sold_at} AT TIME ZONE 'UTC')::date AS day, count(*) AS {self.documents_word},
               sum(subtotal) AS subtotal, sum(discount_total) AS discount_total,
               sum(tax_total) AS tax_total, sum(total) AS total
          FROM {self.documents} d
         WHERE {self._sold_in_range("d")}
         GROUP BY 1
    ), given_back AS (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS {self.given_back_word},
               sum(total) AS {past}
          FROM {self.given_back}
         WHERE tenant_id = :tenant_id AND created_at >= :since AND created_at < :until
         GROUP BY 1
    )
    SELECT COALESCE(s.day, g.day) AS day,
           COALESCE(s.{self.documents_word}, 0) AS {self.documents_word},
           COALESCE(s.subtotal, 0) AS subtotal, COALESCE(s.discount_total, 0) AS discount_total,
           COALESCE(s.tax_total, 0) AS tax_total, COALESCE(s.total, 0) AS total,
           COALESCE(g.{self.given_back_word}, 0) AS {self.given_back_word},
           COALESCE(g.{past}, 0) AS {past},
           COALESCE(s.total, 0) - COALESCE(g.{past}, 0) AS net_total
      FROM sold s FULL JOIN given_back g ON g.day = s.day
     ORDER BY 1
""")  # noqa: S608 -- identifiers checked in __post_init__, values are bound parameters

    def top_products(self) -> TextClause:
        """Products by net revenue of the documents sold in the range, less what give-backs
        of those documents' lines returned; ``:limit`` rows."""
        past = self.given_back_past
        return text(f"""
    WITH sold AS (
        SELECT l.tenant_id, l.product_id, sum(l.quantity) AS quantity, sum(l.total) AS revenue
          FROM {self.lines} l
          JOIN {self.documents} d ON d.tenant_id = l.tenant_id AND d.id = l.{self.line_document}
         WHERE {self._sold_in_range("d")}
         GROUP BY l.tenant_id, l.product_id
    ), given_back AS (
        SELECT gl.product_id, sum(gl.quantity) AS quantity, sum(gl.amount) AS amount
          FROM {self.given_back_lines} gl
          JOIN {self.lines} l ON l.tenant_id = gl.tenant_id AND l.id = gl.{self.given_back_line}
          JOIN {self.documents} d ON d.tenant_id = l.tenant_id AND d.id = l.{self.line_document}
         WHERE {self._sold_in_range("d")}
         GROUP BY gl.product_id
    )
    SELECT s.product_id, p.sku, p.name, s.quantity,
           COALESCE(g.quantity, 0) AS {past}_quantity,
           s.quantity - COALESCE(g.quantity, 0) AS net_quantity, s.revenue,
           COALESCE(g.amount, 0) AS {past}_amount,
           s.revenue - COALESCE(g.amount, 0) AS net_revenue
      FROM sold s
      JOIN products p ON p.tenant_id = :tenant_id AND p.tenant_id = s.tenant_id
                     AND p.id = s.product_id
      LEFT JOIN given_back g ON g.product_id = s.product_id
     ORDER BY net_revenue DESC, p.sku
     LIMIT :limit
""")  # noqa: S608 -- identifiers checked in __post_init__, values are bound parameters

    # The two runners have the signature of ``ReportDefinition.run``: a definition names them.

    def run_by_day(self, tenant_id: uuid.UUID, params: dict[str, Any]) -> list[dict[str, Any]]:
        return _rows(self.by_day(), self._bounds(tenant_id, params))

    def run_top_products(self, tenant_id: uuid.UUID, params: dict[str, Any],
                         ) -> list[dict[str, Any]]:
        return _rows(self.top_products(),
                     {**self._bounds(tenant_id, params), "limit": params["limit"]})

    def _bounds(self, tenant_id: uuid.UUID, params: dict[str, Any]) -> dict[str, Any]:
        """The tenant, ``[since, until)`` of the loaded ``DateRangeSchema`` (and the status
        sold in)."""
        bound = {"tenant_id": tenant_id, "since": params["since"], "until": params["until"]}
        if self.sold_status:
            bound["sold_status"] = self.sold_status
        return bound


def _rows(statement: TextClause, bound: dict[str, Any]) -> list[dict[str, Any]]:
    # Through the request's tenant-scoped session: RLS applies.
    return [dict(row._mapping) for row in db.session.execute(statement, bound)]

