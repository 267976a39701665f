"""audit log: append-only records of tenant staff actions (per tenant, RLS) and of platform
operators' actions

Revision ID: c0a1f0000009
Revises: c0a1f0000008
Create Date: 2026-12-04

Both tables are append-only for the app role (INSERT and SELECT only) and, by trigger, for
everyone, with one exception: ``tenantry audit purge`` deletes rows older than the retention
as the owner role, inside a transaction that sets ``tenantry.audit_retention_purge`` to
``on`` (core/commands/audit_commands.py); the trigger lets that one kind of DELETE through
and still refuses UPDATE and TRUNCATE.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.migration_kit import (
    create_tenant_table,
    disable_tenant_rls,
    revoke_from_app_roles,
    tenant_id_column,
)

revision = "c0a1f0000009"
down_revision = "c0a1f0000008"
branch_labels = None
depends_on = None

GUARD = """
CREATE OR REPLACE FUNCTION tenantry_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tenantry.audit_retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'table % is an audit log: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

def _columns():
    return [
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target_type", sa.String(40), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=True),
        sa.Column("changes", pg.JSONB(), nullable=True),
    ]


def _guard(table):
    revoke_from_app_roles(table, "UPDATE, DELETE, TRUNCATE")
    op.execute(f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
               "FOR EACH ROW EXECUTE FUNCTION tenantry_audit_guard()")
    op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
               "FOR EACH STATEMENT EXECUTE FUNCTION tenantry_audit_guard()")


def upgrade():
    op.execute(GUARD)
    create_tenant_table(
        "audit_events",
        tenant_id_column(),
        *_columns(),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_audit_events_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_tenant_id_occurred_at", "audit_events",
                    ["tenant_id", "occurred_at"])
    op.create_table(
        "platform_audit_events",
        *_columns(),
        sa.Column("about_tenant_id", pg.UUID(as_uuid=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_audit_events")),
    )
    op.create_index("ix_platform_audit_events_occurred_at", "platform_audit_events",
                    ["occurred_at"])
    _guard("audit_events")
    _guard("platform_audit_events")


def downgrade():
    op.drop_table("platform_audit_events")
    disable_tenant_rls("audit_events")
    op.drop_table("audit_events")
    op.execute("DROP FUNCTION IF EXISTS tenantry_audit_guard()")
