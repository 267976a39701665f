"""console sessions: tenant users' (RLS) and platform admins'

The web console (core/console) signs people in with a cookie holding a random token; these
tables keep only its SHA-256, the account and the expiry, so logout (deleting the row) ends a
session at once on every worker.

Revision ID: c0a1f0000004
Revises: c0a1f0000003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core.migration_kit import disable_tenant_rls, enable_tenant_rls, tenant_id_column

revision = "c0a1f0000004"
down_revision = "c0a1f0000003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "platform_console_sessions",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("platform_user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_user_id"], ["platform_users.id"], ondelete="CASCADE",
            name=op.f("fk_platform_console_sessions_platform_user_id_platform_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_console_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_platform_console_sessions_token_hash")),
    )
    op.create_table(
        "console_sessions",
        tenant_id_column(),
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_console_sessions_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"],
                                ondelete="CASCADE",
                                name=op.f("fk_console_sessions_tenant_id_user_id_users")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("tenant_id", "token_hash",
                            name=op.f("uq_console_sessions_tenant_id_token_hash")),
    )
    enable_tenant_rls("console_sessions")


def downgrade():
    disable_tenant_rls("console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("platform_console_sessions")
