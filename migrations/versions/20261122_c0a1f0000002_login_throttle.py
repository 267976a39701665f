"""login throttle: failed-login counters keyed by a digest of (scope, e-mail)

Revision ID: c0a1f0000002
Revises: c0a1f0000001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "c0a1f0000002"
down_revision = "c0a1f0000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )


def downgrade():
    op.drop_table("login_throttle")
