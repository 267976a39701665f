"""core tables: tenants, platform users, module registry, templates, users, toggles, API keys,
idempotency records; RLS on the tenant-owned ones; the API-key look-up function

Revision ID: c0a1f0000001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from core.migration_kit import enable_tenant_rls, grant_execute_to_app_roles

revision = "c0a1f0000001"
down_revision = None
branch_labels = ("core",)
depends_on = None

TENANT_DEFAULT = sa.text("NULLIF(current_setting('app.tenant_id', true), '')::uuid")
NOW = sa.text("now()")
TENANT_TABLES = ("users", "tenant_modules", "api_keys", "idempotency_keys")


def _timestamps():
    return [sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False)]


def _tenant_id():
    return sa.Column("tenant_id", pg.UUID(as_uuid=True), server_default=TENANT_DEFAULT,
                     nullable=False)


def upgrade():
    op.create_table(
        "tenants",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), server_default="active", nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('provisioning', 'active', 'inactive', 'failed')",
                           name=op.f("ck_tenants_status")),
        sa.CheckConstraint("slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'",
                           name=op.f("ck_tenants_slug")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "platform_users",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_users")),
        sa.UniqueConstraint("email", name=op.f("uq_platform_users_email")),
    )
    op.create_table(
        "modules",
        sa.Column("key", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("installed_version", sa.String(40), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_modules")),
    )
    op.create_table(
        "templates",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("key", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("modules", pg.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("key", name=op.f("uq_templates_key")),
    )
    op.create_table(
        "users",
        _tenant_id(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("role IN ('owner', 'admin', 'cashier')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_users_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_users")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_users_tenant_id_email")),
    )
    op.create_table(
        "tenant_modules",
        _tenant_id(),
        sa.Column("module_key", sa.String(63), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("features", pg.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["module_key"], ["modules.key"],
                                name=op.f("fk_tenant_modules_module_key_modules")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_tenant_modules_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "module_key", name=op.f("pk_tenant_modules")),
    )
    op.create_table(
        "api_keys",
        _tenant_id(),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("role", sa.String(10), server_default="user", nullable=False),
        sa.Column("created_by", sa.String(80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('user', 'admin')", name=op.f("ck_api_keys_role")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_api_keys_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("tenant_id", "key_hash", name=op.f("uq_api_keys_tenant_id_key_hash")),
    )
    op.create_index("ix_api_keys_key_hash", "api_keys", ["key_hash"])
    op.create_table(
        "idempotency_keys",
        _tenant_id(),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", pg.JSONB(), nullable=True),
        sa.Column("response_headers", pg.JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_idempotency_keys_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "key", "endpoint", name=op.f("pk_idempotency_keys")),
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)

    # The one pre-tenant look-up: an API key by its SHA-256, before any tenant is known. It
    # returns only what authentication needs, and only for a live key.
    op.execute("""
        CREATE FUNCTION tenantry_find_api_key(p_key_hash bytea)
        RETURNS TABLE (key_id uuid, tenant_id uuid, role varchar, label varchar,
                       last_used_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT k.id, k.tenant_id, k.role, k.label, k.last_used_at FROM public.api_keys k
             WHERE k.key_hash = p_key_hash
               AND k.revoked_at IS NULL
               AND (k.expires_at IS NULL OR k.expires_at > now())
        $$""")
    grant_execute_to_app_roles("tenantry_find_api_key(bytea)")


def downgrade():
    op.execute("DROP FUNCTION IF EXISTS tenantry_find_api_key(bytea)")
    for table in ("idempotency_keys", "api_keys", "tenant_modules", "users", "templates",
                  "modules", "platform_users", "tenants"):
        op.drop_table(table)
