"""pos ledger: receipts (one chain per register), refunds and shift closings (one chain per
tenant) are hash-chained; a closed shift can no longer change

Revision ID: po0a00000005
Revises: po0a00000004
Create Date: 2026-12-04

Each chained document's content is its row and its children, as canonical jsonb (core
migration c0a1f0000008, ``chain_documents``): a receipt with its lines and payments, a refund
with its lines, a shift closing with its Z report (the shift's closing fields, its frozen
totals and tax totals). Documents that exist are linked now, oldest first.

A closed shift is its Z report: a trigger refuses any UPDATE or DELETE of a closed shift's row,
for every role.
"""

from alembic import op

from core.sdk.migrations import chain_documents, unchain_documents

revision = "po0a00000005"
down_revision = "po0a00000004"
branch_labels = None
depends_on = ("c0a1f0000008",)

DISCOUNT = ("discount_kind", "discount_value")
RECEIPT = ("id", "register_id", "shift_id", "subtotal", *DISCOUNT, "discount_total",
           "tax_total", "total", "paid", "change", "created_by", "created_at", "occurred_at",
           "client_receipt_id")
RECEIPT_LINE = ("line_no", "product_id", "description", "quantity", "unit_price", "tax_rate",
                *DISCOUNT, "gross", "line_discount", "order_discount", "tax", "total")
PAYMENT = ("line_no", "method", "amount")
REFUND = ("id", "receipt_id", "register_id", "shift_id", "method", "total", "reason",
          "created_by", "created_at")
REFUND_LINE = ("line_no", "receipt_line_id", "product_id", "quantity", "amount")
SHIFT = ("id", "register_id", "opening_float", "opened_by", "opened_at", "closed_by",
         "closed_at", "expected_cash", "counted_cash", "difference", "note")
TOTALS = ("receipts", "sales_subtotal", "sales_discount_total", "sales_tax_total",
          "sales_total", "sales_change", "paid_cash", "paid_card", "refunds", "refunds_cash",
          "refunds_card", "cash_in", "cash_out")


def _object(alias, columns):
    return "jsonb_build_object(" + ", ".join(f"'{c}', {alias}.{c}" for c in columns) + ")"


def _children(table, alias, parent_column, columns, order="line_no", parent="d"):
    return (f"coalesce((SELECT jsonb_agg({_object(alias, columns)} ORDER BY {alias}.{order}) "
            f"FROM {table} {alias} WHERE {alias}.tenant_id = {parent}.tenant_id "
            f"AND {alias}.{parent_column} = {parent}.id), '[]'::jsonb)")


RECEIPT_CONTENT = f"""
    SELECT {_object('d', RECEIPT)}
           || jsonb_build_object(
               'lines', {_children('pos_receipt_lines', 'l', 'receipt_id', RECEIPT_LINE)},
               'payments', {_children('pos_payments', 'p', 'receipt_id', PAYMENT)})
      FROM pos_receipts d WHERE d.tenant_id = p_tenant AND d.id = p_id"""
REFUND_CONTENT = f"""
    SELECT {_object('d', REFUND)}
           || jsonb_build_object(
               'lines', {_children('pos_refund_lines', 'l', 'refund_id', REFUND_LINE)})
      FROM pos_refunds d WHERE d.tenant_id = p_tenant AND d.id = p_id"""
CLOSING_CONTENT = f"""
    SELECT {_object('d', SHIFT)}
           || jsonb_build_object(
               'totals', (SELECT {_object('t', TOTALS)} FROM pos_shift_totals t
                           WHERE t.tenant_id = d.tenant_id AND t.shift_id = d.id),
               'taxes', {_children('pos_shift_tax_totals', 'x', 'shift_id',
                                   ('tax_rate', 'net', 'tax'), order='tax_rate')})
      FROM pos_shifts d WHERE d.tenant_id = p_tenant AND d.id = p_id"""

CLOSED_SHIFTS_FROZEN = """
CREATE OR REPLACE FUNCTION tenantry_pos_refuse_closed_shift() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'shift % is closed: its Z report cannot change', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER pos_shifts_closed_frozen BEFORE UPDATE OR DELETE ON pos_shifts
FOR EACH ROW WHEN (OLD.status = 'closed') EXECUTE FUNCTION tenantry_pos_refuse_closed_shift();
"""


def upgrade():
    chain_documents("pos_receipts", "pos_receipts", RECEIPT_CONTENT, scope_column="register_id",
                    order_by="occurred_at, created_at, id")
    chain_documents("pos_refunds", "pos_refunds", REFUND_CONTENT)
    chain_documents("pos_shift_closings", "pos_shifts", CLOSING_CONTENT, update_of="status",
                    when="OLD.status = 'open' AND NEW.status = 'closed'",
                    existing="d.status = 'closed'", order_by="closed_at, id")
    op.execute(CLOSED_SHIFTS_FROZEN)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS pos_shifts_closed_frozen ON pos_shifts")
    op.execute("DROP FUNCTION IF EXISTS tenantry_pos_refuse_closed_shift()")
    unchain_documents("pos_shift_closings", "pos_shifts")
    unchain_documents("pos_refunds", "pos_refunds")
    unchain_documents("pos_receipts", "pos_receipts")
