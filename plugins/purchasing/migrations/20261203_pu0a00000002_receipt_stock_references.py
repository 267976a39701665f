"""purchase receipts refer to their stock location and stock moves by composite foreign keys

``purchase_receipts.location_id`` and ``purchase_receipt_lines.stock_move_id`` were checked only
by the code that posts the moves. Purchasing requires stock, so both are now composite foreign
keys on ``(tenant_id, …)``: the database refuses a location or a move of another tenant, or
none at all (docs/architecture.md, "Tenancy and isolation").

Revision ID: pu0a00000002
Revises: pu0a00000001
Create Date: 2026-12-03
"""

from alembic import op

revision = "pu0a00000002"
down_revision = "pu0a00000001"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("fk_purchase_receipts_location", "purchase_receipts", "stock_locations", "location_id"),
    ("fk_purchase_receipt_lines_stock_move", "purchase_receipt_lines", "stock_moves",
     "stock_move_id"),
)


def upgrade():
    for name, table, target, column in FOREIGN_KEYS:
        op.create_foreign_key(name, table, target, ["tenant_id", column], ["tenant_id", "id"])


def downgrade():
    for name, table, _target, _column in FOREIGN_KEYS:
        op.drop_constraint(name, table, type_="foreignkey")
