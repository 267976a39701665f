"""tenant erasure requests: a platform admin asks through the API, the operator's job erases

Revision ID: c0a1f000000e
Revises: c0a1f000000d
Create Date: 2026-12-04

A platform table (no tenant_id; the key is the tenant's id). The app role may read, add and
withdraw a request (SELECT, INSERT, DELETE) but not change one; the erasure itself stays an
owner-role operation (``tenantry tenants erase --scheduled``, core/tenant_erasure.py).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.migration_kit import revoke_from_app_roles

revision = "c0a1f000000e"
down_revision = "c0a1f000000d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tenant_erasure_requests",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("erase_after", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_tenant_erasure_requests_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_erasure_requests")),
    )
    revoke_from_app_roles("tenant_erasure_requests", "UPDATE, TRUNCATE")


def downgrade():
    op.drop_table("tenant_erasure_requests")
