"""notes.body (the second revision lets tests put the branch behind its head)

Revision ID: nt0a00000002
Revises: nt0a00000001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "nt0a00000002"
down_revision = "nt0a00000001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("notes", sa.Column("body", sa.Text(), server_default="", nullable=False))


def downgrade():
    op.drop_column("notes", "body")
