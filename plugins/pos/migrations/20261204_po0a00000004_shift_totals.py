"""shift totals: running totals per shift (and per tax rate), kept when receipts, refunds and
cash movements are written, frozen when the shift closes

Revision ID: po0a00000004
Revises: po0a00000003
Create Date: 2026-12-04

X and Z reports and closing read one ``pos_shift_totals`` row and one ``pos_shift_tax_totals``
row per tax rate, whatever the number of receipts (plugins/pos/shift_totals.py). Existing
shifts get their totals computed here from their documents; closed ones are frozen.

Frozen means the database refuses it: a trigger stops any UPDATE or DELETE of a closed shift's
totals, and any write of a tax-rate row of a closed shift, for every role (the owner included).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import create_tenant_table, disable_tenant_rls, tenant_id_column

revision = "po0a00000004"
down_revision = "po0a00000003"
branch_labels = None
depends_on = None

COUNTS = ("receipts", "refunds")
AMOUNTS = ("sales_subtotal", "sales_discount_total", "sales_tax_total", "sales_total",
           "sales_change", "paid_cash", "paid_card", "refunds_cash", "refunds_card", "cash_in",
           "cash_out")

FREEZE = """
CREATE OR REPLACE FUNCTION tenantry_pos_refuse_closed_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.closed THEN
        RAISE EXCEPTION 'the totals of closed shift % are frozen', OLD.shift_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE OR REPLACE FUNCTION tenantry_pos_refuse_closed_tax_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE shift uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.shift_id ELSE NEW.shift_id END;
DECLARE tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
BEGIN
    IF EXISTS (SELECT 1 FROM pos_shift_totals t
                WHERE t.tenant_id = tenant AND t.shift_id = shift AND t.closed) THEN
        RAISE EXCEPTION 'the totals of closed shift % are frozen', shift
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""


def _shift_fk(table):
    return sa.ForeignKeyConstraint(["tenant_id", "shift_id"],
                                   ["pos_shifts.tenant_id", "pos_shifts.id"],
                                   name=f"fk_{table}_shift")


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"))


def _money(name):
    return sa.Column(name, sa.Numeric(14, 2), server_default="0", nullable=False)


def upgrade():
    create_tenant_table(
        "pos_shift_totals",
        tenant_id_column(),
        sa.Column("shift_id", pg.UUID(as_uuid=True), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in COUNTS),
        *(_money(name) for name in AMOUNTS),
        sa.Column("closed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _tenant_fk("pos_shift_totals"),
        _shift_fk("pos_shift_totals"),
        sa.PrimaryKeyConstraint("tenant_id", "shift_id", name=op.f("pk_pos_shift_totals")),
    )
    create_tenant_table(
        "pos_shift_tax_totals",
        tenant_id_column(),
        sa.Column("shift_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 2), nullable=False),
        _money("net"),
        _money("tax"),
        _tenant_fk("pos_shift_tax_totals"),
        _shift_fk("pos_shift_tax_totals"),
        sa.PrimaryKeyConstraint("tenant_id", "shift_id", "tax_rate",
                                name=op.f("pk_pos_shift_tax_totals")),
    )
    op.execute(FREEZE)
    op.execute("CREATE TRIGGER pos_shift_totals_frozen BEFORE UPDATE OR DELETE "
               "ON pos_shift_totals FOR EACH ROW "
               "EXECUTE FUNCTION tenantry_pos_refuse_closed_totals()")
    op.execute("CREATE TRIGGER pos_shift_tax_totals_frozen BEFORE INSERT OR UPDATE OR DELETE "
               "ON pos_shift_tax_totals FOR EACH ROW "
               "EXECUTE FUNCTION tenantry_pos_refuse_closed_tax_totals()")
    _backfill()


def _backfill():
    """Totals of the shifts that exist, from their documents (as the owner: every tenant)."""
    op.execute("""
        INSERT INTO pos_shift_totals (tenant_id, shift_id, receipts, sales_subtotal,
            sales_discount_total, sales_tax_total, sales_total, sales_change, paid_cash,
            paid_card, refunds, refunds_cash, refunds_card, cash_in, cash_out, closed)
        SELECT s.tenant_id, s.id,
               coalesce(r.n, 0), coalesce(r.subtotal, 0), coalesce(r.discount_total, 0),
               coalesce(r.tax_total, 0), coalesce(r.total, 0), coalesce(r.change, 0),
               coalesce(p.cash, 0), coalesce(p.card, 0),
               coalesce(f.n, 0), coalesce(f.cash, 0), coalesce(f.card, 0),
               coalesce(m.cash_in, 0), coalesce(m.cash_out, 0),
               s.status = 'closed'
          FROM pos_shifts s
          LEFT JOIN (SELECT tenant_id, shift_id, count(*) n, sum(subtotal) subtotal,
                            sum(discount_total) discount_total, sum(tax_total) tax_total,
                            sum(total) total, sum(change) change
                       FROM pos_receipts GROUP BY 1, 2) r
                 ON r.tenant_id = s.tenant_id AND r.shift_id = s.id
          LEFT JOIN (SELECT r.tenant_id, r.shift_id,
                            sum(p.amount) FILTER (WHERE p.method = 'cash') cash,
                            sum(p.amount) FILTER (WHERE p.method = 'card') card
                       FROM pos_payments p JOIN pos_receipts r
                         ON r.tenant_id = p.tenant_id AND r.id = p.receipt_id GROUP BY 1, 2) p
                 ON p.tenant_id = s.tenant_id AND p.shift_id = s.id
          LEFT JOIN (SELECT tenant_id, shift_id, count(*) n,
                            sum(total) FILTER (WHERE method = 'cash') cash,
                            sum(total) FILTER (WHERE method = 'card') card
                       FROM pos_refunds GROUP BY 1, 2) f
                 ON f.tenant_id = s.tenant_id AND f.shift_id = s.id
          LEFT JOIN (SELECT tenant_id, shift_id,
                            sum(amount) FILTER (WHERE kind = 'in') cash_in,
                            sum(amount) FILTER (WHERE kind = 'out') cash_out
                       FROM pos_cash_movements GROUP BY 1, 2) m
                 ON m.tenant_id = s.tenant_id AND m.shift_id = s.id""")
    # Tax rows go in before any shift is frozen: the trigger refuses them afterwards. Closed
    # shifts were inserted with closed = true above, so their rows are written with the trigger
    # off for this one statement.
    op.execute("ALTER TABLE pos_shift_tax_totals DISABLE TRIGGER pos_shift_tax_totals_frozen")
    op.execute("""
        INSERT INTO pos_shift_tax_totals (tenant_id, shift_id, tax_rate, net, tax)
        SELECT r.tenant_id, r.shift_id, l.tax_rate, sum(l.total - l.tax), sum(l.tax)
          FROM pos_receipt_lines l JOIN pos_receipts r
            ON r.tenant_id = l.tenant_id AND r.id = l.receipt_id
         GROUP BY 1, 2, 3""")
    op.execute("ALTER TABLE pos_shift_tax_totals ENABLE TRIGGER pos_shift_tax_totals_frozen")


def downgrade():
    for table in ("pos_shift_tax_totals", "pos_shift_totals"):
        disable_tenant_rls(table)
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS tenantry_pos_refuse_closed_totals()")
    op.execute("DROP FUNCTION IF EXISTS tenantry_pos_refuse_closed_tax_totals()")
