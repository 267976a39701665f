"""fiscal outbox: a tenant's fiscal mode (off, test, live) and when each pending registration
is tried next (backoff)

Revision ID: po0a00000006
Revises: po0a00000005
Create Date: 2026-12-04

``pos_fiscal_records`` becomes an outbox: the sale's transaction writes the record, and the
provider is called only after that transaction commits (plugins/pos/fiscal.py), one short
transaction per record; a failed attempt sets ``next_attempt_at`` further away each time.
``mode`` is the tenant's ``fiscal_mode`` when the document was made: ``test`` documents go to
the provider's test service (the provider reads ``fiscal_mode`` in the document); ``off``
tenants make no records.
"""

import sqlalchemy as sa
from alembic import op

revision = "po0a00000006"
down_revision = "po0a00000005"
branch_labels = None
depends_on = None

MODES = "fiscal_mode IN ('off', 'test', 'live')"


def upgrade():
    op.add_column("pos_settings", sa.Column("fiscal_mode", sa.String(10),
                                            server_default="live", nullable=False))
    op.create_check_constraint(op.f("ck_pos_settings_fiscal_mode"), "pos_settings", MODES)
    op.add_column("pos_fiscal_records", sa.Column("mode", sa.String(10), server_default="live",
                                                  nullable=False))
    op.create_check_constraint(op.f("ck_pos_fiscal_records_mode"), "pos_fiscal_records",
                               "mode IN ('test', 'live')")
    op.add_column("pos_fiscal_records", sa.Column(
        "next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
        nullable=False))


def downgrade():
    op.drop_column("pos_fiscal_records", "next_attempt_at")
    op.drop_constraint(op.f("ck_pos_fiscal_records_mode"), "pos_fiscal_records", type_="check")
    op.drop_column("pos_fiscal_records", "mode")
    op.drop_constraint(op.f("ck_pos_settings_fiscal_mode"), "pos_settings", type_="check")
    op.drop_column("pos_settings", "fiscal_mode")
