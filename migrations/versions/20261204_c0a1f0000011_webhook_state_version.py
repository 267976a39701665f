"""webhook endpoints' state version: adding, removing, enabling or pausing a tenant's webhook
endpoint bumps the tenant's state_version

Revision ID: c0a1f0000011
Revises: c0a1f0000010
Create Date: 2026-12-04

Every business event (a sale, a refund, a case opened) queued its deliveries with an
``INSERT ... SELECT`` from the tenant's enabled endpoints: a round trip even for the many
tenants with none. Workers now remember whether a tenant has an enabled endpoint under the
tenant's ``state_version`` (core/tenancy.py ``Tenancy.webhook_endpoints_enabled``) and skip the
statement when it has none; so that an endpoint created or re-enabled through any worker or node
gets the very next event, the database bumps the version in the same transaction (the function
of the toggles' trigger, c0a1f000000f, which runs as the caller).
"""

from alembic import op

revision = "c0a1f0000011"
down_revision = "c0a1f0000010"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TRIGGER webhook_endpoints_state_version "
               "AFTER INSERT OR DELETE ON webhook_endpoints "
               "FOR EACH ROW EXECUTE FUNCTION tenantry_tenant_toggles_changed()")
    op.execute("CREATE TRIGGER webhook_endpoints_enabled_state_version "
               "AFTER UPDATE OF enabled ON webhook_endpoints FOR EACH ROW "
               "WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled) "
               "EXECUTE FUNCTION tenantry_tenant_toggles_changed()")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS webhook_endpoints_enabled_state_version "
               "ON webhook_endpoints")
    op.execute("DROP TRIGGER IF EXISTS webhook_endpoints_state_version ON webhook_endpoints")
