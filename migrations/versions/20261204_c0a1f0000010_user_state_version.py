"""users' state version: a change of a user's role, activity, token version or e-mail, or a
deleted user, bumps the tenant's state_version

Revision ID: c0a1f0000010
Revises: c0a1f000000f
Create Date: 2026-12-04

Workers cache what authentication reads of a user (core.tenancy, ``Tenancy.user_state``)
under the tenant's ``state_version`` that each request reads as it scopes its transaction. So
that a demoted, deactivated or logged-out user (a password change moves ``token_version`` on)
is refused by the very next request on every worker and node, every such change bumps the
version in the same transaction: an AFTER trigger, only when one of those four columns really
changed (a login writes nothing to ``users``; other columns never reach the cache).
"""

from alembic import op

revision = "c0a1f0000010"
down_revision = "c0a1f000000f"
branch_labels = None
depends_on = None

_COLUMNS = ("role", "active", "token_version", "email")


def upgrade():
    op.execute("""
        CREATE FUNCTION tenantry_tenant_user_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tenants SET state_version = state_version + 1 WHERE id = OLD.tenant_id;
            RETURN NULL;
        END
        $$""")
    changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in _COLUMNS)
    op.execute(f"CREATE TRIGGER users_state_version AFTER UPDATE OF {', '.join(_COLUMNS)} "
               f"ON users FOR EACH ROW WHEN ({changed}) "
               "EXECUTE FUNCTION tenantry_tenant_user_changed()")
    op.execute("CREATE TRIGGER users_state_version_deleted AFTER DELETE ON users "
               "FOR EACH ROW EXECUTE FUNCTION tenantry_tenant_user_changed()")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS users_state_version_deleted ON users")
    op.execute("DROP TRIGGER IF EXISTS users_state_version ON users")
    op.execute("DROP FUNCTION IF EXISTS tenantry_tenant_user_changed()")
