"""loyalty tables

The first revision of the loyalty branch. It depends on the sales module's first revision,
whose customers table the accounts refer to.

Revision ID: ly0a00000001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import create_tenant_table, disable_tenant_rls, tenant_id_column

revision = "ly0a00000001"
down_revision = None
branch_labels = ("loyalty",)
depends_on = ("sa0a00000001",)

TABLES = ("loyalty_entries", "loyalty_accounts")


def upgrade():
    create_tenant_table(
        "loyalty_accounts",
        tenant_id_column(),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("points", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name="fk_loyalty_accounts_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["tenant_id", "customer_id"],
                                ["sales_customers.tenant_id", "sales_customers.id"],
                                name="fk_loyalty_accounts_tenant_id_sales_customers"),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_loyalty_accounts"),
    )
    create_tenant_table(
        "loyalty_entries",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("sale_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name="fk_loyalty_entries_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["tenant_id", "customer_id"],
                                ["sales_customers.tenant_id", "sales_customers.id"],
                                name="fk_loyalty_entries_tenant_id_sales_customers"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_loyalty_entries"),
        sa.UniqueConstraint("tenant_id", "source", "sale_id",
                            name="uq_loyalty_entries_tenant_id_source_sale_id"),
    )


def downgrade():
    for table in TABLES:
        disable_tenant_rls(table)
        op.drop_table(table)
