"""cases table with RLS

Revision ID: ca0a00000001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import disable_tenant_rls, enable_tenant_rls

revision = "ca0a00000001"
down_revision = None
branch_labels = ("cases",)
depends_on = ("c0a1f0000001",)

TENANT_DEFAULT = sa.text("NULLIF(current_setting('app.tenant_id', true), '')::uuid")
NOW = sa.text("now()")


def upgrade():
    op.create_table(
        "cases",
        sa.Column("tenant_id", pg.UUID(as_uuid=True), server_default=TENANT_DEFAULT,
                  nullable=False),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(10), server_default="open", nullable=False),
        sa.Column("patient_ref", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_cases_status")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_cases_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_tenant_id_status_created_at", "cases",
                    ["tenant_id", "status", "created_at"])
    enable_tenant_rls("cases")


def downgrade():
    disable_tenant_rls("cases")
    op.drop_index("ix_cases_tenant_id_status_created_at", table_name="cases")
    op.drop_table("cases")
