"""purchasing tables: suppliers, purchase orders and lines, append-only receipts, with RLS

Revision ID: pu0a00000001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import (
    disable_tenant_rls,
    enable_tenant_rls,
    make_append_only,
    tenant_id_column,
)

revision = "pu0a00000001"
down_revision = None
branch_labels = ("purchasing",)
depends_on = ("c0a1f0000001", "cg0a00000001", "st0a00000001")

NOW = sa.text("now()")
TABLES = ("suppliers", "purchase_orders", "purchase_order_lines", "purchase_receipts",
          "purchase_receipt_lines")
APPEND_ONLY = ("purchase_receipts", "purchase_receipt_lines")


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"))


def _product_fk(table):
    return sa.ForeignKeyConstraint(
        ["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
        name=op.f(f"fk_{table}_tenant_id_product_id_products"))


def _order_fk(table):
    return sa.ForeignKeyConstraint(
        ["tenant_id", "order_id"], ["purchase_orders.tenant_id", "purchase_orders.id"],
        name=op.f(f"fk_{table}_tenant_id_order_id_purchase_orders"))


def _timestamps():
    return [sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False)]


def upgrade():
    op.create_table(
        "suppliers",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("address", sa.Text(), server_default="", nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_timestamps(),
        _tenant_fk("suppliers"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_suppliers")),
    )
    op.create_index("ix_suppliers_tenant_id_name", "suppliers", ["tenant_id", "name"])
    op.create_table(
        "purchase_orders",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("supplier_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(20), server_default="draft", nullable=False),
        sa.Column("reference", sa.String(100), server_default="", nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("subtotal", sa.Numeric(14, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("tax_total", sa.Numeric(14, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('draft', 'ordered', 'partially_received', 'received', "
                           "'cancelled')", name=op.f("ck_purchase_orders_status")),
        sa.ForeignKeyConstraint(["tenant_id", "supplier_id"],
                                ["suppliers.tenant_id", "suppliers.id"],
                                name=op.f("fk_purchase_orders_tenant_id_supplier_id_suppliers")),
        _tenant_fk("purchase_orders"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_orders")),
        sa.UniqueConstraint("tenant_id", "number",
                            name=op.f("uq_purchase_orders_tenant_id_number")),
    )
    op.create_index("ix_purchase_orders_tenant_id_supplier_id", "purchase_orders",
                    ["tenant_id", "supplier_id"])
    op.create_table(
        "purchase_order_lines",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("order_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("line_total", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("received_quantity", sa.Numeric(14, 3), server_default=sa.text("0"),
                  nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_order_lines_quantity")),
        sa.CheckConstraint("received_quantity >= 0",
                           name=op.f("ck_purchase_order_lines_received_quantity")),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100",
                           name=op.f("ck_purchase_order_lines_tax_rate")),
        sa.CheckConstraint("unit_cost >= 0", name=op.f("ck_purchase_order_lines_unit_cost")),
        _order_fk("purchase_order_lines"),
        _product_fk("purchase_order_lines"),
        _tenant_fk("purchase_order_lines"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint("tenant_id", "order_id", "line_no",
                            name=op.f("uq_purchase_order_lines_tenant_id_order_id_line_no")),
    )
    op.create_table(
        "purchase_receipts",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("order_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("location_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("received_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        _order_fk("purchase_receipts"),
        _tenant_fk("purchase_receipts"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_receipts")),
    )
    op.create_index("ix_purchase_receipts_tenant_id_order_id", "purchase_receipts",
                    ["tenant_id", "order_id"])
    op.create_table(
        "purchase_receipt_lines",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("receipt_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("line_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("product_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(14, 2), nullable=False),
        sa.Column("stock_move_id", pg.UUID(as_uuid=True), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_receipt_lines_quantity")),
        sa.ForeignKeyConstraint(["tenant_id", "line_id"],
                                ["purchase_order_lines.tenant_id", "purchase_order_lines.id"],
                                name="fk_purchase_receipt_lines_order_line"),
        _product_fk("purchase_receipt_lines"),
        sa.ForeignKeyConstraint(["tenant_id", "receipt_id"],
                                ["purchase_receipts.tenant_id", "purchase_receipts.id"],
                                name="fk_purchase_receipt_lines_receipt"),
        _tenant_fk("purchase_receipt_lines"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_receipt_lines")),
    )
    op.create_index("ix_purchase_receipt_lines_tenant_id_receipt_id", "purchase_receipt_lines",
                    ["tenant_id", "receipt_id"])
    for table in TABLES:
        enable_tenant_rls(table)
    for table in APPEND_ONLY:
        make_append_only(table)


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_index("ix_purchase_receipt_lines_tenant_id_receipt_id",
                  table_name="purchase_receipt_lines")
    op.drop_table("purchase_receipt_lines")
    op.drop_index("ix_purchase_receipts_tenant_id_order_id", table_name="purchase_receipts")
    op.drop_table("purchase_receipts")
    op.drop_table("purchase_order_lines")
    op.drop_index("ix_purchase_orders_tenant_id_supplier_id", table_name="purchase_orders")
    op.drop_table("purchase_orders")
    op.drop_index("ix_suppliers_tenant_id_name", table_name="suppliers")
    op.drop_table("suppliers")
