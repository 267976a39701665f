"""pos erasure: a closed shift and its frozen totals may be deleted only by an audited erasure
(``tenantry.erasure = on``, core migration c0a1f000000a), like the append-only documents

Revision ID: po0a00000007
Revises: po0a00000006
Create Date: 2026-12-04
"""

from alembic import op

revision = "po0a00000007"
down_revision = "po0a00000006"
branch_labels = None
depends_on = ("c0a1f000000a",)

# Only the tables' owner (the migration role) may erase, whatever the session declares: the app
# role may set any setting, and it can DELETE rows of these mutable tables.
ERASURE = ("TG_OP = 'DELETE' AND current_setting('tenantry.erasure', true) = 'on' AND "
           "pg_has_role(current_user, (SELECT c.relowner FROM pg_class c "
           "WHERE c.oid = TG_RELID), 'USAGE')")


def _functions(allow: bool) -> str:
    erasure = f"IF {ERASURE} THEN RETURN OLD; END IF;" if allow else ""
    return f"""
CREATE OR REPLACE FUNCTION tenantry_pos_refuse_closed_shift() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {erasure}
    RAISE EXCEPTION 'shift % is closed: its Z report cannot change', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE FUNCTION tenantry_pos_refuse_closed_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {erasure}
    IF OLD.closed THEN
        RAISE EXCEPTION 'the totals of closed shift % are frozen', OLD.shift_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE OR REPLACE FUNCTION tenantry_pos_refuse_closed_tax_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE shift uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.shift_id ELSE NEW.shift_id END;
DECLARE tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
BEGIN
    {erasure}
    IF EXISTS (SELECT 1 FROM pos_shift_totals t
                WHERE t.tenant_id = tenant AND t.shift_id = shift AND t.closed) THEN
        RAISE EXCEPTION 'the totals of closed shift % are frozen', shift
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
"""


def upgrade():
    op.execute(_functions(allow=True))


def downgrade():
    op.execute(_functions(allow=False))
