"""catalog tables: categories (a tree) and products, with RLS

Revision ID: cg0a00000001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import disable_tenant_rls, enable_tenant_rls, tenant_id_column

revision = "cg0a00000001"
down_revision = None
branch_labels = ("catalog",)
depends_on = ("c0a1f0000001",)

NOW = sa.text("now()")
TABLES = ("categories", "products")


def _timestamps():
    return [sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False)]


def upgrade():
    op.create_table(
        "categories",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("parent_id", pg.UUID(as_uuid=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id",
                           name=op.f("ck_categories_not_own_parent")),
        sa.ForeignKeyConstraint(["tenant_id", "parent_id"],
                                ["categories.tenant_id", "categories.id"],
                                name=op.f("fk_categories_tenant_id_parent_id_categories")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_categories_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_categories")),
        sa.UniqueConstraint("tenant_id", "parent_id", "name",
                            name=op.f("uq_categories_tenant_id_parent_id_name"),
                            postgresql_nulls_not_distinct=True),
    )
    op.create_table(
        "products",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("barcode", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("unit", sa.String(20), server_default="unit", nullable=False),
        sa.Column("sale_price", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("category_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("sale_price >= 0", name=op.f("ck_products_sale_price")),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name=op.f("ck_products_tax_rate")),
        sa.ForeignKeyConstraint(["tenant_id", "category_id"],
                                ["categories.tenant_id", "categories.id"],
                                name=op.f("fk_products_tenant_id_category_id_categories")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_products_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_products")),
        sa.UniqueConstraint("tenant_id", "barcode", name=op.f("uq_products_tenant_id_barcode")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_products_tenant_id_sku")),
    )
    op.create_index("ix_products_tenant_id_category_id", "products", ["tenant_id", "category_id"])
    op.create_index("ix_products_tenant_id_name", "products", ["tenant_id", "name"])
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_index("ix_products_tenant_id_name", table_name="products")
    op.drop_index("ix_products_tenant_id_category_id", table_name="products")
    op.drop_table("products")
    op.drop_table("categories")
