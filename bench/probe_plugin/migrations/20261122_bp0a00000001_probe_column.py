"""benchprobe: add products.bench_probe_note (benchmark of migrate-all with a schema change)

Revision ID: bp0a00000001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "bp0a00000001"
down_revision = None
branch_labels = ("benchprobe",)
depends_on = ("cg0a00000001",)


def upgrade():
    op.add_column("products", sa.Column("bench_probe_note", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("products", "bench_probe_note")
