"""billing tables: plan per tenant and usage counters (all-time and hourly), with RLS

Revision ID: bi0a00000001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import disable_tenant_rls, enable_tenant_rls

revision = "bi0a00000001"
down_revision = None
branch_labels = ("billing",)
depends_on = ("c0a1f0000001",)

TENANT_DEFAULT = sa.text("NULLIF(current_setting('app.tenant_id', true), '')::uuid")
TABLES = ("billing_accounts", "billing_usage_totals", "billing_usage_hourly")


def _tenant_id():
    return sa.Column("tenant_id", pg.UUID(as_uuid=True), server_default=TENANT_DEFAULT,
                     nullable=False)


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"))


def upgrade():
    op.create_table(
        "billing_accounts",
        _tenant_id(),
        sa.Column("plan", sa.String(10), server_default="free", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=True),
        sa.CheckConstraint("plan IN ('free', 'paid')", name=op.f("ck_billing_accounts_plan")),
        _tenant_fk("billing_accounts"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_billing_accounts")),
    )
    op.create_table(
        "billing_usage_totals",
        _tenant_id(),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("calls", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        _tenant_fk("billing_usage_totals"),
        sa.PrimaryKeyConstraint("tenant_id", "endpoint", "shard",
                                name=op.f("pk_billing_usage_totals")),
    )
    op.create_table(
        "billing_usage_hourly",
        _tenant_id(),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("calls", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        _tenant_fk("billing_usage_hourly"),
        # (tenant, hour) leads: "last 24 hours" is a range scan of one tenant's recent rows.
        sa.PrimaryKeyConstraint("tenant_id", "hour", "endpoint", "shard",
                                name=op.f("pk_billing_usage_hourly")),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
        op.drop_table(table)
