"""tenantry_pos_fiscal_backlog(): how many fiscal registrations are pending across tenants, and
since when (for /metrics)

Revision ID: po0a00000002
Revises: po0a00000001
Create Date: 2026-12-02

The metrics scrape has no tenant, and the app role sees one tenant's rows at a time (RLS), so
the backlog of the whole deployment is read through this one SECURITY DEFINER function. It is
narrow by construction: no argument, and it returns two aggregates (a count and the oldest
creation time) — never a tenant id, a document or a row. It runs as the owner (BYPASSRLS) with
a fixed search_path naming the schema this migration targets, and only the app role may call
it (tests/core/test_schema_rules.py keeps the list of such functions fixed).

The partial index ``ix_pos_fiscal_records_pending`` (status = 'pending') keeps the count cheap
however many registered records there are.
"""

from alembic import op

from core.sdk.migrations import grant_execute_to_app_roles

revision = "po0a00000002"
down_revision = "po0a00000001"
branch_labels = None
depends_on = None


def upgrade():
    # format(): pin search_path to the schema being migrated, as a literal in the definition.
    op.execute("""
        DO $$
        BEGIN
            EXECUTE format($f$
                CREATE OR REPLACE FUNCTION tenantry_pos_fiscal_backlog()
                RETURNS TABLE (pending bigint, oldest_created_at timestamptz)
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, %1$I AS $b$
                    SELECT count(*), min(f.created_at) FROM %1$I.pos_fiscal_records f
                     WHERE f.status = 'pending'
                $b$
            $f$, current_schema());
        END
        $$""")
    grant_execute_to_app_roles("tenantry_pos_fiscal_backlog()")


def downgrade():
    op.execute("DROP FUNCTION IF EXISTS tenantry_pos_fiscal_backlog()")
