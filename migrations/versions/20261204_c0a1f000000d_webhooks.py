"""webhooks: the tenant's subscribed endpoints and the queue of signed deliveries

Revision ID: c0a1f000000d
Revises: c0a1f000000c
Create Date: 2026-12-04

Both tables are the tenant's (RLS). An endpoint stores no secret: signing secrets are derived
from the deployment's ``WEBHOOK_SIGNING_KEY`` (core/webhooks/signing.py). ``position`` (an
identity) orders an endpoint's messages: the worker sends them one at a time in that order.

The worker (``tenantry webhooks deliver --loop``) has no tenant: it finds the tenants with a
delivery due through ``tenantry_webhook_due_tenants()``, a SECURITY DEFINER function as narrow
as the fiscal backlog's — no argument, it returns tenant ids only (never a delivery, a URL or a
body), reads through the partial index of pending deliveries, and only the app role may call
it. Each tenant's deliveries are then read and sent under that tenant's RLS scope.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.migration_kit import (
    create_tenant_table,
    disable_tenant_rls,
    grant_execute_to_app_roles,
    tenant_id_column,
)

revision = "c0a1f000000d"
down_revision = "c0a1f000000c"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    create_tenant_table(
        "webhook_endpoints",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(200), server_default="", nullable=False),
        sa.Column("event_types", pg.ARRAY(sa.String(80)), server_default="{}",
                  nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("secret_generation", sa.Integer(), server_default=sa.text("1"),
                  nullable=False),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_webhook_endpoints_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_webhook_endpoints")),
    )
    create_tenant_table(
        "webhook_deliveries",
        tenant_id_column(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("endpoint_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("message_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replay_of", pg.UUID(as_uuid=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')",
                           name=op.f("ck_webhook_deliveries_status")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_webhook_deliveries_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"],
            ["webhook_endpoints.tenant_id", "webhook_endpoints.id"], ondelete="CASCADE",
            name=op.f("fk_webhook_deliveries_tenant_id_endpoint_id_webhook_endpoints")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "replay_of"],
            ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
            name=op.f("fk_webhook_deliveries_tenant_id_replay_of_webhook_deliveries")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index("ix_webhook_deliveries_queue", "webhook_deliveries",
                    ["tenant_id", "endpoint_id", "position"], postgresql_where=PENDING)
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"],
                    postgresql_where=PENDING)
    op.create_index("ix_webhook_deliveries_tenant_id_position", "webhook_deliveries",
                    ["tenant_id", "position"])
    # format(): pin search_path to the schema being migrated, as a literal in the definition.
    op.execute("""
        DO $$
        BEGIN
            EXECUTE format($f$
                CREATE OR REPLACE FUNCTION tenantry_webhook_due_tenants()
                RETURNS SETOF uuid
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, %1$I AS $b$
                    SELECT DISTINCT d.tenant_id FROM %1$I.webhook_deliveries d
                     WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                $b$
            $f$, current_schema());
        END
        $$""")
    grant_execute_to_app_roles("tenantry_webhook_due_tenants()")


def downgrade():
    op.execute("DROP FUNCTION IF EXISTS tenantry_webhook_due_tenants()")
    disable_tenant_rls("webhook_deliveries")
    op.drop_table("webhook_deliveries")
    disable_tenant_rls("webhook_endpoints")
    op.drop_table("webhook_endpoints")
