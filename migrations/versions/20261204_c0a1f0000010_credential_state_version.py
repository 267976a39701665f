"""credentials' state version: a change of what authentication reads of a user or an API key
bumps the tenant's state_version

Revision ID: c0a1f0000010
Revises: c0a1f000000f
Create Date: 2026-12-04

Workers cache what authentication reads of a user and of an API key (core.tenancy,
``Tenancy.user_state`` and ``Tenancy.api_key_state``) under the tenant's ``state_version`` that
each request reads as it scopes its transaction. So that a demoted, deactivated or logged-out
user (a password change moves ``token_version`` on) and a revoked key (or one whose expiry a
rotation brought forward) are refused by the very next request on every worker and node, every
such change bumps the version in the same transaction: AFTER triggers that fire only when one
of those columns really changed (a login writes nothing to ``users``; a key's ``last_used_at``
moves every minute without bumping anything), and on deletion.
"""

from alembic import op

revision = "c0a1f0000010"
down_revision = "c0a1f000000f"
branch_labels = None
depends_on = None

_WATCHED = {"users": ("role", "active", "token_version", "email"),
            "api_keys": ("role", "label", "revoked_at", "expires_at")}


def upgrade():
    op.execute("""
        CREATE FUNCTION tenantry_tenant_credential_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tenants SET state_version = state_version + 1 WHERE id = OLD.tenant_id;
            RETURN NULL;
        END
        $$""")
    for table, columns in _WATCHED.items():
        changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}"
                              for column in columns)
        op.execute(f"CREATE TRIGGER {table}_state_version AFTER UPDATE OF {', '.join(columns)} "
                   f"ON {table} FOR EACH ROW WHEN ({changed}) "
                   "EXECUTE FUNCTION tenantry_tenant_credential_changed()")
        op.execute(f"CREATE TRIGGER {table}_state_version_deleted AFTER DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION tenantry_tenant_credential_changed()")


def downgrade():
    for table in _WATCHED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_state_version_deleted ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_state_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS tenantry_tenant_credential_changed()")
