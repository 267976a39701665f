"""sales tables: customers, orders and lines, returns; posted documents refuse changes

Revision ID: sa0a00000001
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

revision = "sa0a00000001"
down_revision = None
branch_labels = ("sales",)
depends_on = ("c0a1f0000001", "cg0a00000001")

NOW = sa.text("now()")
ZERO = sa.text("0")
TABLES = ("sales_customers", "sales_orders", "sales_order_lines", "sales_returns",
          "sales_return_lines")
DISCOUNT_PAIR = ("(discount_kind IS NULL) = (discount_value IS NULL) AND (discount_kind IS NULL "
                 "OR discount_kind IN ('percent', 'amount') AND discount_value >= 0 AND "
                 "(discount_kind = 'amount' OR discount_value <= 100))")

# A fulfilled or cancelled order is final, and so are the lines of any order past draft:
# refused for every role, whatever the code above the database does.
POSTED_GUARD = """
CREATE OR REPLACE FUNCTION sales_refuse_posted_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'sales_orders' THEN
        IF OLD.status IN ('fulfilled', 'cancelled') THEN
            RAISE EXCEPTION 'sales order % is %: it cannot change', OLD.id, OLD.status
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM sales_orders o
                   WHERE o.tenant_id = OLD.tenant_id AND o.id = OLD.order_id
                     AND o.status <> 'draft') THEN
        RAISE EXCEPTION 'lines of sales order % cannot change after it left draft', OLD.order_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"))


def _money(name, **kwargs):
    return sa.Column(name, sa.Numeric(14, 2), nullable=False, **kwargs)


def upgrade():
    op.create_table(
        "sales_customers",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("tax_id", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        _tenant_fk("sales_customers"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sales_customers")),
    )
    op.create_index("ix_sales_customers_tenant_id_name", "sales_customers", ["tenant_id", "name"])
    op.create_table(
        "sales_orders",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("status", sa.String(20), server_default="draft", nullable=False),
        sa.Column("discount_kind", sa.String(10), nullable=True),
        sa.Column("discount_value", sa.Numeric(14, 2), nullable=True),
        _money("subtotal", server_default=ZERO),
        _money("discount_total", server_default=ZERO),
        _money("tax_total", server_default=ZERO),
        _money("total", server_default=ZERO),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'confirmed', 'fulfilled', 'cancelled')",
                           name=op.f("ck_sales_orders_status")),
        sa.CheckConstraint(DISCOUNT_PAIR, name=op.f("ck_sales_orders_discount")),
        sa.ForeignKeyConstraint(["tenant_id", "customer_id"],
                                ["sales_customers.tenant_id", "sales_customers.id"],
                                name="fk_sales_orders_customer"),
        _tenant_fk("sales_orders"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sales_orders")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_sales_orders_tenant_id_number")),
    )
    op.create_index("ix_sales_orders_tenant_id_customer_id", "sales_orders",
                    ["tenant_id", "customer_id"])
    op.create_index("ix_sales_orders_tenant_id_fulfilled_at", "sales_orders",
                    ["tenant_id", "fulfilled_at"])
    op.create_table(
        "sales_order_lines",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("order_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        _money("unit_price"),
        sa.Column("tax_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("discount_kind", sa.String(10), nullable=True),
        sa.Column("discount_value", sa.Numeric(14, 2), nullable=True),
        _money("gross"),
        _money("line_discount"),
        _money("order_discount"),
        _money("tax"),
        _money("total"),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_sales_order_lines_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_sales_order_lines_unit_price")),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100",
                           name=op.f("ck_sales_order_lines_tax_rate")),
        sa.CheckConstraint(DISCOUNT_PAIR, name=op.f("ck_sales_order_lines_discount")),
        sa.ForeignKeyConstraint(["tenant_id", "order_id"],
                                ["sales_orders.tenant_id", "sales_orders.id"],
                                name="fk_sales_order_lines_order"),
        sa.ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
                                name="fk_sales_order_lines_product"),
        _tenant_fk("sales_order_lines"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sales_order_lines")),
        sa.UniqueConstraint("tenant_id", "order_id", "line_no",
                            name=op.f("uq_sales_order_lines_tenant_id_order_id_line_no")),
    )
    op.create_index("ix_sales_order_lines_tenant_id_product_id", "sales_order_lines",
                    ["tenant_id", "product_id"])
    op.create_table(
        "sales_returns",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("order_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        _money("total"),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("total >= 0", name=op.f("ck_sales_returns_total")),
        sa.ForeignKeyConstraint(["tenant_id", "order_id"],
                                ["sales_orders.tenant_id", "sales_orders.id"],
                                name="fk_sales_returns_order"),
        _tenant_fk("sales_returns"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sales_returns")),
    )
    op.create_index("ix_sales_returns_tenant_id_order_id", "sales_returns",
                    ["tenant_id", "order_id"])
    op.create_table(
        "sales_return_lines",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("return_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("order_line_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("product_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        _money("amount"),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_sales_return_lines_quantity")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_sales_return_lines_amount")),
        sa.ForeignKeyConstraint(["tenant_id", "return_id"],
                                ["sales_returns.tenant_id", "sales_returns.id"],
                                name="fk_sales_return_lines_return"),
        sa.ForeignKeyConstraint(["tenant_id", "order_line_id"],
                                ["sales_order_lines.tenant_id", "sales_order_lines.id"],
                                name="fk_sales_return_lines_order_line"),
        sa.ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
                                name="fk_sales_return_lines_product"),
        _tenant_fk("sales_return_lines"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sales_return_lines")),
        sa.UniqueConstraint("tenant_id", "return_id", "line_no",
                            name=op.f("uq_sales_return_lines_tenant_id_return_id_line_no")),
    )
    op.create_index("ix_sales_return_lines_tenant_id_order_line_id", "sales_return_lines",
                    ["tenant_id", "order_line_id"])
    for table in TABLES:
        enable_tenant_rls(table)
    op.execute(POSTED_GUARD)
    for table in ("sales_orders", "sales_order_lines"):
        op.execute(f'DROP TRIGGER IF EXISTS {table}_posted_guard ON "{table}"')
        op.execute(f'CREATE TRIGGER {table}_posted_guard BEFORE UPDATE OR DELETE ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION sales_refuse_posted_change()")
    make_append_only("sales_returns")
    make_append_only("sales_return_lines")


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_table("sales_return_lines")
    op.drop_table("sales_returns")
    op.drop_table("sales_order_lines")
    op.drop_table("sales_orders")
    op.drop_table("sales_customers")
    op.execute("DROP FUNCTION IF EXISTS sales_refuse_posted_change()")
