"""rate limit counters: requests per key and fixed window, shared by every worker and node

An UNLOGGED table: a counter is worth nothing after a crash (the window it counts is over by
then), and writes to an unlogged table make no WAL, so the per-request increment never waits
for the disk. Keys are SHA-256 digests of "kind|id" (core/rate_limits.py): no API key, e-mail
or address is stored.

Revision ID: c0a1f0000007
Revises: c0a1f0000006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "c0a1f0000007"
down_revision = "c0a1f0000006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_limit_counters")),
        prefixes=["UNLOGGED"],
    )


def downgrade():
    op.drop_table("rate_limit_counters")
