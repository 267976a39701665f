"""stock ledger: every stock move is hash-chained, one chain per tenant

Revision ID: st0a00000002
Revises: st0a00000001
Create Date: 2026-12-04

A move's content is its row as canonical jsonb (core migration c0a1f0000008,
``chain_documents``); moves that exist are linked now, oldest first. The chain's head is locked
at the commit of each transaction that moves stock, for the time of that commit: the price of
one gapless chain per tenant (docs/security.md, "Ledger").
"""

from core.sdk.migrations import chain_documents, unchain_documents

revision = "st0a00000002"
down_revision = "st0a00000001"
branch_labels = None
depends_on = ("c0a1f0000008",)

MOVE = ("id", "product_id", "location_id", "quantity", "unit_cost", "reason", "reference_type",
        "reference_id", "note", "actor", "created_at")
CONTENT = ("SELECT jsonb_build_object(" + ", ".join(f"'{c}', d.{c}" for c in MOVE) + ") "
           "FROM stock_moves d WHERE d.tenant_id = p_tenant AND d.id = p_id")


def upgrade():
    chain_documents("stock_moves", "stock_moves", CONTENT)


def downgrade():
    unchain_documents("stock_moves", "stock_moves")
