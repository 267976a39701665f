"""pos import: a closed shift's tax totals may be written by an import (``tenantry.import``,
core migration c0a1f000000c), which copies a closed shift's totals row before its tax rows

Revision ID: po0a00000008
Revises: po0a00000007
Create Date: 2026-12-04
"""

from alembic import op

revision = "po0a00000008"
down_revision = "po0a00000007"
branch_labels = None
depends_on = ("c0a1f000000c",)

OWNER = ("pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), "
         "'USAGE')")
ERASURE = f"TG_OP = 'DELETE' AND current_setting('tenantry.erasure', true) = 'on' AND {OWNER}"
IMPORT = f"TG_OP = 'INSERT' AND current_setting('tenantry.import', true) = 'on' AND {OWNER}"


def _function(allow_import: bool) -> str:
    imported = f"IF {IMPORT} THEN RETURN NEW; END IF;" if allow_import else ""
    return f"""
CREATE OR REPLACE FUNCTION tenantry_pos_refuse_closed_tax_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE shift uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.shift_id ELSE NEW.shift_id END;
DECLARE tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
BEGIN
    IF {ERASURE} THEN RETURN OLD; END IF;
    {imported}
    IF EXISTS (SELECT 1 FROM pos_shift_totals t
                WHERE t.tenant_id = tenant AND t.shift_id = shift AND t.closed) THEN
        RAISE EXCEPTION 'the totals of closed shift % are frozen', shift
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""


def upgrade():
    op.execute(_function(allow_import=True))


def downgrade():
    op.execute(_function(allow_import=False))
