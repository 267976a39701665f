"""tenant tombstones: what is left of an erased tenant (its id, slug, when, and the receipt)

Revision ID: c0a1f000000b
Revises: c0a1f000000a
Create Date: 2026-12-04

``tenantry tenants erase`` (core/tenant_erasure.py) deletes every row of a tenant, its
``tenants`` row last, and writes one tombstone in the same transaction. A platform table: the
app role may read tombstones, nobody may change them (the append-only triggers).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.migration_kit import make_append_only, revoke_from_app_roles

revision = "c0a1f000000b"
down_revision = "c0a1f000000a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tenant_tombstones",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("erased_by", sa.String(100), nullable=False),
        sa.Column("receipt", pg.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_tombstones")),
    )
    revoke_from_app_roles("tenant_tombstones", "INSERT")
    make_append_only("tenant_tombstones")


def downgrade():
    op.drop_table("tenant_tombstones")
