"""offline receipts: the till's own receipt id (one receipt per tenant, register and client id),
when the sale happened, and the fingerprint of what the till sent

Revision ID: po0a00000003
Revises: po0a00000002
Create Date: 2026-12-04

A till that sold while offline sends its queue later; each receipt carries the UUID the till
gave it (``client_receipt_id``) and the time it happened (``occurred_at``). The unique
constraint makes a replay (dropped answer, second tab, batch re-sent) find the original instead
of selling twice, whatever runs concurrently: the database decides, not the code.
``client_fingerprint`` (SHA-256 of the sale as sent) tells a replay from a different sale
reusing the id.

Existing receipts happened when they were recorded: ``occurred_at`` is backfilled from
``created_at``. ``pos_receipts`` is append-only (triggers refuse UPDATE for everyone); the
backfill disables that one trigger for its own statement, in this transaction, as the owner.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "po0a00000003"
down_revision = "po0a00000002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("pos_receipts", sa.Column("client_receipt_id", pg.UUID(as_uuid=True),
                                            nullable=True))
    op.add_column("pos_receipts", sa.Column("client_fingerprint", sa.String(64), nullable=True))
    op.add_column("pos_receipts", sa.Column("occurred_at", sa.DateTime(timezone=True),
                                            nullable=True))
    op.execute("ALTER TABLE pos_receipts DISABLE TRIGGER pos_receipts_append_only")
    op.execute("UPDATE pos_receipts SET occurred_at = created_at")
    op.execute("ALTER TABLE pos_receipts ENABLE TRIGGER pos_receipts_append_only")
    op.alter_column("pos_receipts", "occurred_at", nullable=False, server_default=sa.text("now()"))
    op.create_unique_constraint(op.f("uq_pos_receipts_client_receipt"), "pos_receipts",
                                ["tenant_id", "register_id", "client_receipt_id"])
    op.create_check_constraint(
        op.f("ck_pos_receipts_client"), "pos_receipts",
        "(client_receipt_id IS NULL) = (client_fingerprint IS NULL)")
    op.create_index("ix_pos_receipts_tenant_id_occurred_at", "pos_receipts",
                    ["tenant_id", "occurred_at"])


def downgrade():
    op.drop_index("ix_pos_receipts_tenant_id_occurred_at", table_name="pos_receipts")
    op.drop_constraint(op.f("ck_pos_receipts_client"), "pos_receipts", type_="check")
    op.drop_constraint(op.f("uq_pos_receipts_client_receipt"), "pos_receipts", type_="unique")
    for column in ("occurred_at", "client_fingerprint", "client_receipt_id"):
        op.drop_column("pos_receipts", column)
