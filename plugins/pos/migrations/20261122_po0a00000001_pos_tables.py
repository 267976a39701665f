"""pos tables: settings, registers, shifts (cashiershiftstatus), cash movements, receipts,
refunds, fiscal records and the mock provider's journal, with RLS

Revision ID: po0a00000001
Revises:
Create Date: 2026-11-22

Runbook 000, "Troubleshooting migrations": the ``cashiershiftstatus`` type is created only if
absent from the schema this migration targets (``current_schema()``); one left in that schema
by an earlier partial run is reused, and one in another schema (``public`` while migrating
``tenantry``) is ignored. The column names the type unqualified, so it resolves through the
search_path, whose first schema is the target schema. A type of that name with other labels
stops the migration with an explanation instead of half-working.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import (
    create_enum_if_absent,
    disable_tenant_rls,
    drop_enum_if_present,
    enable_tenant_rls,
    make_append_only,
    tenant_id_column,
)

revision = "po0a00000001"
down_revision = None
branch_labels = ("pos",)
depends_on = ("c0a1f0000001", "cg0a00000001", "sa0a00000001")

NOW = sa.text("now()")
SHIFT_STATUSES = ("open", "closed")
SHIFT_STATUS = pg.ENUM(*SHIFT_STATUSES, name="cashiershiftstatus", create_type=False)
TABLES = ("pos_settings", "pos_registers", "pos_shifts", "pos_cash_movements",
          "pos_fiscal_records", "pos_receipts", "pos_receipt_lines", "pos_payments",
          "pos_refunds", "pos_refund_lines", "pos_mock_fiscal_counters",
          "pos_mock_fiscal_documents")
APPEND_ONLY = ("pos_cash_movements", "pos_receipts", "pos_receipt_lines", "pos_payments",
               "pos_refunds", "pos_refund_lines", "pos_mock_fiscal_documents")
DISCOUNT_PAIR = ("(discount_kind IS NULL) = (discount_value IS NULL) AND (discount_kind IS NULL "
                 "OR discount_kind IN ('percent', 'amount') AND discount_value >= 0 AND "
                 "(discount_kind = 'amount' OR discount_value <= 100))")

CHECK_ENUM_LABELS = """
DO $$
DECLARE labels text[];
BEGIN
    SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) INTO labels
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE t.typname = 'cashiershiftstatus' AND n.nspname = current_schema();
    IF NOT (labels @> ARRAY['open', 'closed']) THEN
        RAISE EXCEPTION 'type %.cashiershiftstatus exists with labels % but POS needs open and '
            'closed; see the runbook (Troubleshooting migrations) before changing it',
            current_schema(), labels;
    END IF;
END
$$
"""


def _id():
    return sa.Column("id", pg.UUID(as_uuid=True), nullable=False)


def _uuid(name, nullable=False):
    return sa.Column(name, pg.UUID(as_uuid=True), nullable=nullable)


def _money(name, nullable=False):
    return sa.Column(name, sa.Numeric(14, 2), nullable=nullable)


def _text(name):
    return sa.Column(name, sa.Text(), server_default="", nullable=False)


def _actor(name, nullable=False):
    return sa.Column(name, sa.String(80), nullable=nullable)


def _time(name, default=True):
    if default:
        return sa.Column(name, sa.DateTime(timezone=True), server_default=NOW, nullable=False)
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def _pk(table, *columns):
    return sa.PrimaryKeyConstraint("tenant_id", *(columns or ("id",)), name=op.f(f"pk_{table}"))


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"))


def _fk(table, column, target, name):
    return sa.ForeignKeyConstraint(["tenant_id", column], [f"{target}.tenant_id", f"{target}.id"],
                                   name=f"fk_{table}_{name}")


def _ck(table, name, condition):
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _discount():
    return [sa.Column("discount_kind", sa.String(10), nullable=True),
            _money("discount_value", True)]


def upgrade():
    create_enum_if_absent("cashiershiftstatus", SHIFT_STATUSES)
    op.execute(CHECK_ENUM_LABELS)
    op.create_table(
        "pos_settings",
        tenant_id_column(),
        sa.Column("cash_register_provider", sa.String(40), nullable=True),
        _actor("updated_by", nullable=True),
        _time("updated_at"),
        _tenant_fk("pos_settings"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_pos_settings")),
    )
    op.create_table(
        "pos_registers",
        tenant_id_column(),
        _id(),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        _uuid("location_id", nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _tenant_fk("pos_registers"),
        _pk("pos_registers"),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_pos_registers_tenant_id_code")),
    )
    op.create_table(
        "pos_shifts",
        tenant_id_column(),
        _id(),
        _uuid("register_id"),
        sa.Column("status", SHIFT_STATUS, server_default="open", nullable=False),
        _money("opening_float"),
        _actor("opened_by"),
        _time("opened_at"),
        _actor("closed_by", nullable=True),
        _time("closed_at", default=False),
        _money("expected_cash", True),
        _money("counted_cash", True),
        _money("difference", True),
        _text("note"),
        _ck("pos_shifts", "opening_float", "opening_float >= 0"),
        _ck("pos_shifts", "counted_cash", "counted_cash IS NULL OR counted_cash >= 0"),
        _ck("pos_shifts", "closed", "(status = 'closed') = (closed_at IS NOT NULL)"),
        _tenant_fk("pos_shifts"),
        _fk("pos_shifts", "register_id", "pos_registers", "register"),
        _pk("pos_shifts"),
    )
    op.create_index("uq_pos_shifts_open_register", "pos_shifts", ["tenant_id", "register_id"],
                    unique=True, postgresql_where=sa.text("status = 'open'"))
    op.create_index("ix_pos_shifts_tenant_id_register_id_opened_at", "pos_shifts",
                    ["tenant_id", "register_id", "opened_at"])
    op.create_table(
        "pos_cash_movements",
        tenant_id_column(),
        _id(),
        _uuid("shift_id"),
        sa.Column("kind", sa.String(3), nullable=False),
        _money("amount"),
        _text("reason"),
        _actor("created_by"),
        _time("created_at"),
        _ck("pos_cash_movements", "kind", "kind IN ('in', 'out')"),
        _ck("pos_cash_movements", "amount", "amount > 0"),
        _tenant_fk("pos_cash_movements"),
        _fk("pos_cash_movements", "shift_id", "pos_shifts", "shift"),
        _pk("pos_cash_movements"),
    )
    op.create_index("ix_pos_cash_movements_tenant_id_shift_id", "pos_cash_movements",
                    ["tenant_id", "shift_id"])
    op.create_table(
        "pos_fiscal_records",
        tenant_id_column(),
        _id(),
        _uuid("register_id"),
        sa.Column("document_type", sa.String(20), nullable=False),
        _uuid("document_id"),
        sa.Column("payload", pg.JSONB(), nullable=False),
        sa.Column("status", sa.String(20), server_default="pending", nullable=False),
        sa.Column("provider", sa.String(40), nullable=True),
        sa.Column("fiscal_number", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _time("created_at"),
        _time("registered_at", default=False),
        _ck("pos_fiscal_records", "document_type",
            "document_type IN ('shift_open', 'shift_close', 'receipt', 'refund')"),
        _ck("pos_fiscal_records", "status", "status IN ('pending', 'registered')"),
        _tenant_fk("pos_fiscal_records"),
        _fk("pos_fiscal_records", "register_id", "pos_registers", "register"),
        _pk("pos_fiscal_records"),
        sa.UniqueConstraint("tenant_id", "document_type", "document_id",
                            name=op.f("uq_pos_fiscal_records_tenant_id_document_type_document_id")),
    )
    op.create_index("ix_pos_fiscal_records_pending", "pos_fiscal_records",
                    ["tenant_id", "created_at"], postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "pos_receipts",
        tenant_id_column(),
        _id(),
        _uuid("register_id"),
        _uuid("shift_id"),
        _money("subtotal"),
        _money("discount_total"),
        _money("tax_total"),
        _money("total"),
        _money("paid"),
        _money("change"),
        _actor("created_by"),
        _time("created_at"),
        *_discount(),
        _ck("pos_receipts", "discount", DISCOUNT_PAIR),
        _ck("pos_receipts", "paid", "paid >= total AND change >= 0"),
        _tenant_fk("pos_receipts"),
        _fk("pos_receipts", "register_id", "pos_registers", "register"),
        _fk("pos_receipts", "shift_id", "pos_shifts", "shift"),
        _pk("pos_receipts"),
    )
    op.create_index("ix_pos_receipts_tenant_id_shift_id", "pos_receipts",
                    ["tenant_id", "shift_id"])
    op.create_index("ix_pos_receipts_tenant_id_created_at", "pos_receipts",
                    ["tenant_id", "created_at"])
    op.create_table(
        "pos_receipt_lines",
        tenant_id_column(),
        _id(),
        _uuid("receipt_id"),
        sa.Column("line_no", sa.Integer(), nullable=False),
        _uuid("product_id"),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        _money("unit_price"),
        sa.Column("tax_rate", sa.Numeric(5, 2), nullable=False),
        _money("gross"),
        _money("line_discount"),
        _money("order_discount"),
        _money("tax"),
        _money("total"),
        *_discount(),
        _ck("pos_receipt_lines", "quantity", "quantity > 0"),
        _ck("pos_receipt_lines", "unit_price", "unit_price >= 0"),
        _ck("pos_receipt_lines", "discount", DISCOUNT_PAIR),
        _tenant_fk("pos_receipt_lines"),
        _fk("pos_receipt_lines", "receipt_id", "pos_receipts", "receipt"),
        _fk("pos_receipt_lines", "product_id", "products", "product"),
        _pk("pos_receipt_lines"),
        sa.UniqueConstraint("tenant_id", "receipt_id", "line_no",
                            name=op.f("uq_pos_receipt_lines_tenant_id_receipt_id_line_no")),
    )
    op.create_index("ix_pos_receipt_lines_tenant_id_product_id", "pos_receipt_lines",
                    ["tenant_id", "product_id"])
    op.create_table(
        "pos_payments",
        tenant_id_column(),
        _id(),
        _uuid("receipt_id"),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        _money("amount"),
        _ck("pos_payments", "method", "method IN ('cash', 'card')"),
        _ck("pos_payments", "amount", "amount > 0"),
        _tenant_fk("pos_payments"),
        _fk("pos_payments", "receipt_id", "pos_receipts", "receipt"),
        _pk("pos_payments"),
        sa.UniqueConstraint("tenant_id", "receipt_id", "line_no",
                            name=op.f("uq_pos_payments_tenant_id_receipt_id_line_no")),
    )
    op.create_table(
        "pos_refunds",
        tenant_id_column(),
        _id(),
        _uuid("receipt_id"),
        _uuid("register_id"),
        _uuid("shift_id"),
        sa.Column("method", sa.String(10), nullable=False),
        _money("total"),
        _text("reason"),
        _actor("created_by"),
        _time("created_at"),
        _ck("pos_refunds", "method", "method IN ('cash', 'card')"),
        _ck("pos_refunds", "total", "total >= 0"),
        _tenant_fk("pos_refunds"),
        _fk("pos_refunds", "receipt_id", "pos_receipts", "receipt"),
        _fk("pos_refunds", "register_id", "pos_registers", "register"),
        _fk("pos_refunds", "shift_id", "pos_shifts", "shift"),
        _pk("pos_refunds"),
    )
    op.create_index("ix_pos_refunds_tenant_id_receipt_id", "pos_refunds",
                    ["tenant_id", "receipt_id"])
    op.create_index("ix_pos_refunds_tenant_id_shift_id", "pos_refunds", ["tenant_id", "shift_id"])
    op.create_table(
        "pos_refund_lines",
        tenant_id_column(),
        _id(),
        _uuid("refund_id"),
        sa.Column("line_no", sa.Integer(), nullable=False),
        _uuid("receipt_line_id"),
        _uuid("product_id"),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        _money("amount"),
        _ck("pos_refund_lines", "quantity", "quantity > 0"),
        _ck("pos_refund_lines", "amount", "amount >= 0"),
        _tenant_fk("pos_refund_lines"),
        _fk("pos_refund_lines", "refund_id", "pos_refunds", "refund"),
        _fk("pos_refund_lines", "receipt_line_id", "pos_receipt_lines", "receipt_line"),
        _fk("pos_refund_lines", "product_id", "products", "product"),
        _pk("pos_refund_lines"),
        sa.UniqueConstraint("tenant_id", "refund_id", "line_no",
                            name=op.f("uq_pos_refund_lines_tenant_id_refund_id_line_no")),
    )
    op.create_index("ix_pos_refund_lines_tenant_id_receipt_line_id", "pos_refund_lines",
                    ["tenant_id", "receipt_line_id"])
    op.create_table(
        "pos_mock_fiscal_counters",
        tenant_id_column(),
        _uuid("register_id"),
        sa.Column("last_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _tenant_fk("pos_mock_fiscal_counters"),
        _fk("pos_mock_fiscal_counters", "register_id", "pos_registers", "register"),
        _pk("pos_mock_fiscal_counters", "register_id"),
    )
    op.create_table(
        "pos_mock_fiscal_documents",
        tenant_id_column(),
        _id(),
        _uuid("register_id"),
        sa.Column("fiscal_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        _uuid("document_id"),
        _money("total", True),
        sa.Column("payload", pg.JSONB(), nullable=False),
        _time("created_at"),
        _ck("pos_mock_fiscal_documents", "kind",
            "kind IN ('shift_open', 'shift_close', 'receipt', 'refund')"),
        _tenant_fk("pos_mock_fiscal_documents"),
        _fk("pos_mock_fiscal_documents", "register_id", "pos_registers", "register"),
        _pk("pos_mock_fiscal_documents"),
        sa.UniqueConstraint("tenant_id", "register_id", "fiscal_number",
                            name="uq_pos_mock_fiscal_documents_number"),
        sa.UniqueConstraint("tenant_id", "kind", "document_id",
                            name=op.f("uq_pos_mock_fiscal_documents_tenant_id_kind_document_id")),
    )
    for table in TABLES:
        enable_tenant_rls(table)
    for table in APPEND_ONLY:
        make_append_only(table)


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
        op.drop_table(table)
    drop_enum_if_present("cashiershiftstatus")
