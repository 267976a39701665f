"""erasure path: the append-only trigger lets a DELETE through in a transaction that declares an
audited erasure (``tenantry.erasure = on``), and in no other

Revision ID: c0a1f000000a
Revises: c0a1f0000009
Create Date: 2026-12-04

Append-only tables (posted documents, stock moves, ledger entries) refuse UPDATE, DELETE and
TRUNCATE for every role. Purging a module's data for one tenant (``tenantry modules purge``,
core/module_purge.py) must delete such rows: it runs as the owner role, in one transaction
that sets ``tenantry.erasure`` to ``on`` for itself only (``set_config(..., true)``), and
records what it deleted in the audit logs in the same transaction. The exception also needs
the session's role to own the table (the app role may set any setting, and has DELETE on some
guarded mutable tables), so no request can take this path. UPDATE and TRUNCATE stay refused
for everyone.
"""

from alembic import op

revision = "c0a1f000000a"
down_revision = "c0a1f0000009"
branch_labels = None
depends_on = None

ERASABLE = """
CREATE OR REPLACE FUNCTION tenantry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tenantry.erasure', true) = 'on'
       AND pg_has_role(current_user, (SELECT c.relowner FROM pg_class c
                                       WHERE c.oid = TG_RELID), 'USAGE') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'table % is append-only: % is not allowed; post a compensating row',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""

STRICT = """
CREATE OR REPLACE FUNCTION tenantry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % is not allowed; post a compensating row',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade():
    op.execute(ERASABLE)


def downgrade():
    op.execute(STRICT)
