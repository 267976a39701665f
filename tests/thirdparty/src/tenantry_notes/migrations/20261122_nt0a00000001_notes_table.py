"""notes table

Revision ID: nt0a00000001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.sdk.migrations import disable_tenant_rls, enable_tenant_rls, tenant_id_column

revision = "nt0a00000001"
down_revision = None
branch_labels = ("notes",)
depends_on = ("c0a1f0000001",)


def upgrade():
    op.create_table(
        "notes",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_notes_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_notes"),
    )
    enable_tenant_rls("notes")


def downgrade():
    disable_tenant_rls("notes")
    op.drop_table("notes")
