"""the API-key look-up in PL/pgSQL

``tenantry_find_api_key`` was a parameterised SQL function, which Citus cannot plan on a
coordinator ("consider using PL/pgSQL"); the same query in PL/pgSQL runs there (and still
reaches every shard: a key names no tenant until it is found, docs/scale-out.md). Same
signature, same answer, same grants.

Revision ID: c0a1f0000005
Revises: c0a1f0000004
Create Date: 2026-12-03
"""

from alembic import op

revision = "c0a1f0000005"
down_revision = "c0a1f0000004"
branch_labels = None
depends_on = None

_HEADER = """
    CREATE OR REPLACE FUNCTION tenantry_find_api_key(p_key_hash bytea)
    RETURNS TABLE (key_id uuid, tenant_id uuid, role varchar, label varchar,
                   last_used_at timestamptz)
"""
_QUERY = """
        SELECT k.id, k.tenant_id, k.role, k.label, k.last_used_at FROM public.api_keys k
         WHERE k.key_hash = p_key_hash
           AND k.revoked_at IS NULL
           AND (k.expires_at IS NULL OR k.expires_at > now())
"""


def upgrade():
    op.execute(_HEADER + """
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
        RETURN QUERY""" + _QUERY + """;
    END
    $$""")


def downgrade():
    op.execute(_HEADER + """
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$"""
               + _QUERY + "$$")
