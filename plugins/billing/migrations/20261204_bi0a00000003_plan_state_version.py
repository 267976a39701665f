"""a change of a tenant's plan bumps its state_version

Revision ID: bi0a00000003
Revises: bi0a00000002
Create Date: 2026-12-04

Core caches each tenant's rate-limit plan (``tenantry_rate_limit_plan``, answered from
``billing_accounts``) under the tenant's ``state_version``, which every request reads with the
statement that scopes its transaction (core/tenancy.py). So that a tenant moved to another plan
gets that plan's quotas on the very next request on every worker and node, whoever wrote the
row (the platform API, ``tenantry billing set-plan``, SQL), the database bumps the version in the
same transaction: on a new account, a deleted one, and an update that really changed the plan.
Before, each worker kept a plan for TENANT_CACHE_TTL (5 s) and read it again after that, which
with many tenants meant a read of ``billing_accounts`` on most requests.

The triggers call core's ``tenantry_tenant_toggles_changed()`` (migration c0a1f000000f), which
bumps the version of the changed row's tenant and runs as the caller (the app role may bump
``state_version``: a column grant of the same migration).
"""

from alembic import op

revision = "bi0a00000003"
down_revision = "bi0a00000002"
branch_labels = None
depends_on = ("c0a1f000000f",)


def upgrade():
    op.execute("CREATE TRIGGER billing_accounts_plan_added_or_removed "
               "AFTER INSERT OR DELETE ON billing_accounts "
               "FOR EACH ROW EXECUTE FUNCTION tenantry_tenant_toggles_changed()")
    op.execute("CREATE TRIGGER billing_accounts_plan_changed "
               "AFTER UPDATE OF plan ON billing_accounts FOR EACH ROW "
               "WHEN (OLD.plan IS DISTINCT FROM NEW.plan) "
               "EXECUTE FUNCTION tenantry_tenant_toggles_changed()")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS billing_accounts_plan_changed ON billing_accounts")
    op.execute("DROP TRIGGER IF EXISTS billing_accounts_plan_added_or_removed "
               "ON billing_accounts")
