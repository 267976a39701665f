"""idempotency keys per caller; only completed answers are stored

Keys were scoped to tenant + endpoint, so a second caller of a tenant reusing a key got the
first caller's answer. They are now scoped to the caller too (``Identity.actor``: the user of a
JWT or the API key), and the primary key becomes (tenant_id, caller, key, endpoint).

A request in progress is no longer a row (an advisory lock of its transaction marks it), so
``completed_at`` goes and ``response_status`` is required. Existing rows: claims that never
completed (running or abandoned) are deleted; completed answers are kept with the caller
``'*'``, which core.idempotency honours for every caller of their tenant until they expire, as
they were honoured when stored, so a retry across the upgrade still replays.

Revision ID: c0a1f0000003
Revises: c0a1f0000002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "c0a1f0000003"
down_revision = "c0a1f0000002"
branch_labels = None
depends_on = None

TABLE = "idempotency_keys"
LEGACY_CALLER = "*"


def upgrade():
    # The migration role has BYPASSRLS: these statements see every tenant's rows.
    op.execute(f"DELETE FROM {TABLE} WHERE completed_at IS NULL OR response_status IS NULL")
    op.add_column(TABLE, sa.Column("caller", sa.String(100), nullable=False,
                                   server_default=LEGACY_CALLER))
    op.alter_column(TABLE, "caller", server_default=None)
    op.drop_constraint(op.f("pk_idempotency_keys"), TABLE, type_="primary")
    op.create_primary_key(op.f("pk_idempotency_keys"), TABLE,
                          ["tenant_id", "caller", "key", "endpoint"])
    op.alter_column(TABLE, "response_status", existing_type=sa.Integer(), nullable=False)
    op.drop_column(TABLE, "completed_at")


def downgrade():
    # The old key has no caller: of the answers several callers stored under one key, the
    # newest is kept.
    op.execute(f"""
        DELETE FROM {TABLE} older USING {TABLE} newer
         WHERE older.tenant_id = newer.tenant_id AND older.key = newer.key
           AND older.endpoint = newer.endpoint
           AND (older.created_at, older.caller) < (newer.created_at, newer.caller)""")
    op.add_column(TABLE, sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE {TABLE} SET completed_at = created_at")
    op.alter_column(TABLE, "response_status", existing_type=sa.Integer(), nullable=True)
    op.drop_constraint(op.f("pk_idempotency_keys"), TABLE, type_="primary")
    op.create_primary_key(op.f("pk_idempotency_keys"), TABLE, ["tenant_id", "key", "endpoint"])
    op.drop_column(TABLE, "caller")
