"""stock tables: locations, the append-only move ledger, balances and costs, with RLS

Revision ID: st0a00000001
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

revision = "st0a00000001"
down_revision = None
branch_labels = ("stock",)
depends_on = ("c0a1f0000001", "cg0a00000001")

NOW = sa.text("now()")
TABLES = ("stock_locations", "stock_moves", "stock_balances", "stock_costs")


def _product_fk(table):
    return sa.ForeignKeyConstraint(
        ["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
        name=op.f(f"fk_{table}_tenant_id_product_id_products"))


def _location_fk(table):
    return sa.ForeignKeyConstraint(
        ["tenant_id", "location_id"], ["stock_locations.tenant_id", "stock_locations.id"],
        name=op.f(f"fk_{table}_tenant_id_location_id_stock_locations"))


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"))


def upgrade():
    op.create_table(
        "stock_locations",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        _tenant_fk("stock_locations"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_stock_locations")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_stock_locations_tenant_id_code")),
    )
    op.create_index("uq_stock_locations_default", "stock_locations", ["tenant_id"], unique=True,
                    postgresql_where=sa.text("is_default"))
    op.create_table(
        "stock_moves",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("product_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("location_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(14, 4), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("reference_type", sa.String(40), nullable=True),
        sa.Column("reference_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("reason IN ('receipt', 'sale', 'pos_sale', 'return', 'adjustment', "
                           "'transfer')", name=op.f("ck_stock_moves_reason")),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_stock_moves_quantity")),
        sa.CheckConstraint("unit_cost >= 0", name=op.f("ck_stock_moves_unit_cost")),
        _location_fk("stock_moves"),
        _product_fk("stock_moves"),
        _tenant_fk("stock_moves"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_stock_moves")),
    )
    op.create_index("ix_stock_moves_tenant_id_product_id_created_at", "stock_moves",
                    ["tenant_id", "product_id", "created_at"])
    op.create_index("ix_stock_moves_tenant_id_reference_type_reference_id", "stock_moves",
                    ["tenant_id", "reference_type", "reference_id"])
    op.create_table(
        "stock_balances",
        tenant_id_column(),
        sa.Column("product_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("location_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        _location_fk("stock_balances"),
        _product_fk("stock_balances"),
        _tenant_fk("stock_balances"),
        sa.PrimaryKeyConstraint("tenant_id", "product_id", "location_id",
                                name=op.f("pk_stock_balances")),
    )
    op.create_table(
        "stock_costs",
        tenant_id_column(),
        sa.Column("product_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), server_default=sa.text("0"), nullable=False),
        sa.Column("average_cost", sa.Numeric(14, 4), server_default=sa.text("0"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        _product_fk("stock_costs"),
        _tenant_fk("stock_costs"),
        sa.PrimaryKeyConstraint("tenant_id", "product_id", name=op.f("pk_stock_costs")),
    )
    for table in TABLES:
        enable_tenant_rls(table)
    make_append_only("stock_moves")


def downgrade():
    # The append-only triggers refuse TRUNCATE, and DROP TABLE removes them with the table.
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_table("stock_costs")
    op.drop_table("stock_balances")
    op.drop_index("ix_stock_moves_tenant_id_reference_type_reference_id", table_name="stock_moves")
    op.drop_index("ix_stock_moves_tenant_id_product_id_created_at", table_name="stock_moves")
    op.drop_table("stock_moves")
    op.drop_index("uq_stock_locations_default", table_name="stock_locations")
    op.drop_table("stock_locations")
