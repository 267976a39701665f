"""The sales history of the data set: fulfilled sales orders of 3 lines each (sales module).

Orders are spread evenly over the last 90 days so that a monthly report has about a third of
them. Every amount is a deterministic function of (tenant, order, line), so order totals are
computed in the same statement as the orders (fulfilled orders are immutable: a trigger
refuses to update them afterwards). No discounts; 21 % tax, as the products carry.
"""

from __future__ import annotations

from bench import naming

ORDER_ID = "(lpad(to_hex(s), 8, '0') || '-0000-4000-e000-' || lpad(to_hex(t), 12, '0'))::uuid"
LINES_PER_ORDER = 3


def _line_values(spec) -> str:
    """Columns p, quantity, unit_price, gross, tax, total of line l of order s."""
    return f"""
        SELECT l, p, qty, price, qty * price AS gross, round(qty * price * 0.21, 2) AS tax,
               qty * price + round(qty * price * 0.21, 2) AS total
          FROM generate_series(1, {LINES_PER_ORDER}) AS l,
               LATERAL (SELECT 1 + (s * {LINES_PER_ORDER} + l) % {spec.products} AS p) AS pick,
               LATERAL (SELECT (1 + (s + l) % 3)::numeric(14, 3) AS qty,
                               ((1 + (p * 37) % 500) + 0.99)::numeric(14, 2) AS price) AS v"""


def tables(modules: set[str]) -> list[str]:
    return ["sales_orders", "sales_order_lines"] if "sales" in modules else []


def statements(modules: set[str], spec, tenant_id_sql: str, tenants_sql: str
               ) -> list[tuple[str, dict]]:
    if "sales" not in modules or not spec.sales:
        return []
    orders = f"{tenants_sql}, generate_series(1, {spec.sales}) AS s"
    when = f"now() - (s * interval '90 days' / {spec.sales})"
    return [
        (f"""INSERT INTO sales_orders (tenant_id, id, number, status, subtotal, discount_total,
                                       tax_total, total, created_by, confirmed_at,
                                       fulfilled_at, created_at, updated_at)
             SELECT {tenant_id_sql}, {ORDER_ID}, s, 'fulfilled', sums.gross, 0, sums.tax,
                    sums.total, 'bench', {when}, {when}, {when}, {when}
               FROM {orders},
                    LATERAL (SELECT sum(gross) AS gross, sum(tax) AS tax, sum(total) AS total
                               FROM ({_line_values(spec)}) AS line) AS sums""", {}),
        (f"""INSERT INTO sales_order_lines (tenant_id, id, order_id, line_no, product_id,
                                            description, quantity, unit_price, tax_rate, gross,
                                            line_discount, order_discount, tax, total)
             SELECT {tenant_id_sql}, gen_random_uuid(), {ORDER_ID}, line.l,
                    {naming.SQL_PRODUCT_ID.format(p="line.p", t="t")}, 'Product ' || line.p,
                    line.qty, line.price, 21.00, line.gross, 0, 0, line.tax, line.total
               FROM {orders}, LATERAL ({_line_values(spec)}) AS line""", {}),
    ]
