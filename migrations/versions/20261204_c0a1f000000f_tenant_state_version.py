"""tenant state version: a counter the database bumps on any change to a tenant or its module
toggles, which every request reads with its scope statement to check its cached copies

Revision ID: c0a1f000000f
Revises: c0a1f000000e
Create Date: 2026-12-04

Workers cache a tenant's row and toggles (core/tenancy.py). Before, a cache entry lived
TENANT_CACHE_TTL seconds whatever happened elsewhere: with two gunicorn workers, an owner who
enabled a module got 403 on about half of the next requests for a few seconds. Now
``tenants.state_version`` changes with every change of the tenant (a BEFORE UPDATE trigger) or
of any of its ``tenant_modules`` rows (an AFTER trigger that bumps the tenant's row, in the
same transaction), and each request reads it in the round trip that scopes its transaction
(core/rls.py): a different value makes the worker read the tenant and its toggles again.

The app role may change ``state_version`` (a column grant; the trigger on tenant_modules runs
as the caller): the most it could do with it is make workers re-read a tenant.
"""

import sqlalchemy as sa
from alembic import op

from core.migration_kit import grant_to_app_roles

revision = "c0a1f000000f"
down_revision = "c0a1f000000e"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tenants", sa.Column("state_version", sa.BigInteger(),
                                       server_default=sa.text("1"), nullable=False))
    op.execute("""
        CREATE FUNCTION tenantry_tenant_state_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.state_version = OLD.state_version THEN
                NEW.state_version := OLD.state_version + 1;
            END IF;
            RETURN NEW;
        END
        $$""")
    op.execute("CREATE TRIGGER tenants_state_version BEFORE UPDATE ON tenants "
               "FOR EACH ROW EXECUTE FUNCTION tenantry_tenant_state_changed()")
    op.execute("""
        CREATE FUNCTION tenantry_tenant_toggles_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE changed uuid;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                changed := OLD.tenant_id;
            ELSE
                changed := NEW.tenant_id;
            END IF;
            UPDATE tenants SET state_version = state_version + 1 WHERE id = changed;
            RETURN NULL;
        END
        $$""")
    op.execute("CREATE TRIGGER tenant_modules_state_version "
               "AFTER INSERT OR UPDATE OR DELETE ON tenant_modules "
               "FOR EACH ROW EXECUTE FUNCTION tenantry_tenant_toggles_changed()")
    grant_to_app_roles("UPDATE (state_version)", "tenants")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS tenant_modules_state_version ON tenant_modules")
    op.execute("DROP FUNCTION IF EXISTS tenantry_tenant_toggles_changed()")
    op.execute("DROP TRIGGER IF EXISTS tenants_state_version ON tenants")
    op.execute("DROP FUNCTION IF EXISTS tenantry_tenant_state_changed()")
    op.drop_column("tenants", "state_version")
