"""billing_count_call(): count one call in one statement (two upserts), relaxing the commit of
transactions that wrote nothing else

Revision ID: bi0a00000002
Revises: bi0a00000001
Create Date: 2026-11-22

Called at the end of a request, in the request's transaction. If that transaction has not
written anything yet (no transaction id assigned: a read), its commit no longer has to wait for
the WAL flush on account of the counter (``synchronous_commit`` off for this transaction only);
a crash may then forget the last moments of counts, never business data. A transaction that
wrote business data keeps its synchronous commit.

SECURITY INVOKER (the default): it runs as the app role, under the tables' RLS policies, and
sets ``app.tenant_id`` to the tenant it counts for, which the app role could do anyway.
"""

from alembic import op

from core.sdk.migrations import grant_execute_to_app_roles

revision = "bi0a00000002"
down_revision = "bi0a00000001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        CREATE OR REPLACE FUNCTION billing_count_call(
            p_tenant_id uuid, p_endpoint varchar, p_shards integer) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
            v_shard smallint := (pg_backend_pid() % p_shards)::smallint;
        BEGIN
            IF pg_current_xact_id_if_assigned() IS NULL THEN
                PERFORM set_config('synchronous_commit', 'off', true);
            END IF;
            PERFORM set_config('app.tenant_id', p_tenant_id::text, true);
            INSERT INTO billing_usage_totals AS t (tenant_id, endpoint, shard, calls)
            VALUES (p_tenant_id, p_endpoint, v_shard, 1)
            ON CONFLICT (tenant_id, endpoint, shard) DO UPDATE SET calls = t.calls + 1;
            INSERT INTO billing_usage_hourly AS h (tenant_id, hour, endpoint, shard, calls)
            VALUES (p_tenant_id, date_trunc('hour', now(), 'UTC'), p_endpoint, v_shard, 1)
            ON CONFLICT (tenant_id, hour, endpoint, shard) DO UPDATE SET calls = h.calls + 1;
        END
        $$""")
    grant_execute_to_app_roles("billing_count_call(uuid, varchar, integer)")


def downgrade():
    op.execute("DROP FUNCTION IF EXISTS billing_count_call(uuid, varchar, integer)")
