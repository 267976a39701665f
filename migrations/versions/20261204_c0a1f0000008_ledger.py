"""ledger: hash chains over posted documents (receipts, refunds, shift closings, stock moves)

Revision ID: c0a1f0000008
Revises: c0a1f0000007
Create Date: 2026-12-04

A tenant table and the functions that link a document into its chain (core/ledger.py):
``ledger_entries`` (append-only), one per chained document: its chain, scope (a register for
receipts; the zero UUID for a tenant-wide chain), its sequence number from 1 without gaps, the
SHA-256 of its canonical content, the previous entry's hash and its own:
``entry_hash = sha256(prev_hash || content_hash || "<seq>:<document id>")``.

Writers of one chain take a transaction-level advisory lock on it, then read its last entry
(the primary key's index, backwards): two transactions can neither fork a chain nor leave a
gap, and the lock is held for the time of the commit only. No head row is updated per link:
a transaction linking thousands of documents of one chain (a stock count) would walk the
growing list of that row's versions on every link.

A module chains a table with ``core.sdk.migrations.chain_documents``: a content function
``tenantry_ledger_content_<chain>(tenant, id) RETURNS text`` (canonical jsonb text of the row
and its children, in UTC) and a deferred constraint trigger calling ``tenantry_ledger_append``
at commit, when the document's lines and payments are all written. The link is computed in the
transaction that writes the document, by the database: code cannot forget it, and a rolled back
savepoint takes its pending link with it.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.migration_kit import (
    create_tenant_table,
    disable_tenant_rls,
    grant_execute_to_app_roles,
    make_append_only,
    tenant_id_column,
)

revision = "c0a1f0000008"
down_revision = "c0a1f0000007"
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE OR REPLACE FUNCTION tenantry_ledger_entry_hash(prev bytea, content_hash bytea, seq bigint,
                                                      document uuid)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(prev, ''::bytea) || content_hash
                  || convert_to(seq::text || ':' || document::text, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION tenantry_ledger_link(p_chain text, p_tenant uuid, p_scope uuid,
                                                p_document uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    content text;
    digest bytea;
    head_seq bigint;
    head_hash bytea;
    entry bytea;
BEGIN
    EXECUTE format('SELECT %I($1, $2)', 'tenantry_ledger_content_' || p_chain)
       INTO content USING p_tenant, p_document;
    IF content IS NULL THEN
        RAISE EXCEPTION 'ledger %: document % has no content', p_chain, p_document;
    END IF;
    digest := sha256(convert_to(content, 'UTF8'));
    PERFORM pg_advisory_xact_lock(hashtextextended(
        'core.ledger:' || p_tenant || ':' || p_chain || ':' || p_scope, 0));
    SELECT e.seq, e.entry_hash INTO head_seq, head_hash FROM ledger_entries e
     WHERE e.tenant_id = p_tenant AND e.chain = p_chain AND e.scope_id = p_scope
     ORDER BY e.seq DESC LIMIT 1;
    head_seq := coalesce(head_seq, 0);
    entry := tenantry_ledger_entry_hash(head_hash, digest, head_seq + 1, p_document);
    INSERT INTO ledger_entries (tenant_id, chain, scope_id, seq, document_id, content_hash,
                                prev_hash, entry_hash)
    VALUES (p_tenant, p_chain, p_scope, head_seq + 1, p_document, digest, head_hash, entry);
END
$$;

CREATE OR REPLACE FUNCTION tenantry_ledger_append() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV: the chain, and the column naming the scope ('' for one chain per tenant).
    PERFORM tenantry_ledger_link(
        TG_ARGV[0], NEW.tenant_id,
        CASE WHEN TG_ARGV[1] = '' THEN '00000000-0000-0000-0000-000000000000'::uuid
             ELSE (to_jsonb(NEW) ->> TG_ARGV[1])::uuid END,
        NEW.id);
    RETURN NULL;
END
$$;
"""


def _hash(name, nullable=False):
    return sa.Column(name, sa.LargeBinary(), nullable=nullable)


def upgrade():
    create_tenant_table(
        "ledger_entries",
        tenant_id_column(),
        sa.Column("chain", sa.String(40), nullable=False),
        sa.Column("scope_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("document_id", pg.UUID(as_uuid=True), nullable=False),
        _hash("content_hash"),
        _hash("prev_hash", nullable=True),
        _hash("entry_hash"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_ledger_entries_seq")),
        sa.CheckConstraint("(seq = 1) = (prev_hash IS NULL)",
                           name=op.f("ck_ledger_entries_prev_hash")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_ledger_entries_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "chain", "scope_id", "seq",
                                name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("tenant_id", "chain", "document_id",
                            name=op.f("uq_ledger_entries_tenant_id_chain_document_id")),
    )
    make_append_only("ledger_entries")
    op.execute(FUNCTIONS)
    # Invoker functions (RLS applies): the app role runs them when its commits link documents.
    grant_execute_to_app_roles("tenantry_ledger_entry_hash(bytea, bytea, bigint, uuid)")
    grant_execute_to_app_roles("tenantry_ledger_link(text, uuid, uuid, uuid)")


def downgrade():
    op.execute("DROP FUNCTION IF EXISTS tenantry_ledger_append()")
    op.execute("DROP FUNCTION IF EXISTS tenantry_ledger_link(text, uuid, uuid, uuid)")
    op.execute("DROP FUNCTION IF EXISTS tenantry_ledger_entry_hash(bytea, bytea, bigint, uuid)")
    disable_tenant_rls("ledger_entries")
    op.drop_table("ledger_entries")
