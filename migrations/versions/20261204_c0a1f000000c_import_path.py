"""import path: documents copied from a bundle keep the ledger entries they came with

Revision ID: c0a1f000000c
Revises: c0a1f000000b
Create Date: 2026-12-04

``tenantry tenants import`` (core/tenant_import.py) copies a bundle's rows, ledger entries
included, into a new tenant, as the owner role, in one transaction that declares
``tenantry.import``. The ledger trigger must then not link the copied documents a second time
(their entries are in the bundle, and they verify: an entry's hash holds the document's id and
content, never its tenant). Like the erasure path, the exception needs the session's role to
own the table: the app role may set any setting.
"""

from alembic import op

revision = "c0a1f000000c"
down_revision = "c0a1f000000b"
branch_labels = None
depends_on = None

OWNER = ("pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), "
         "'USAGE')")


def _append(skip_import: bool) -> str:
    skip = (f"IF current_setting('tenantry.import', true) = 'on' AND {OWNER} THEN "
            "RETURN NULL; END IF;") if skip_import else ""
    return f"""
CREATE OR REPLACE FUNCTION tenantry_ledger_append() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {skip}
    -- TG_ARGV: the chain, and the column naming the scope ('' for one chain per tenant).
    PERFORM tenantry_ledger_link(
        TG_ARGV[0], NEW.tenant_id,
        CASE WHEN TG_ARGV[1] = '' THEN '00000000-0000-0000-0000-000000000000'::uuid
             ELSE (to_jsonb(NEW) ->> TG_ARGV[1])::uuid END,
        NEW.id);
    RETURN NULL;
END
$$
"""


def upgrade():
    op.execute(_append(skip_import=True))


def downgrade():
    op.execute(_append(skip_import=False))
