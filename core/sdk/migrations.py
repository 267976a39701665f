"""The SDK for a plugin's Alembic revisions: the helpers that give a tenant table its tenant
column, forced Row Level Security, enums that survive re-runs, append-only guards and grants
(docs/plugin-authoring.md, "Migrations"). Import it only from ``migrations/versions/*.py``.
"""

from core.migration_kit import (
    chain_documents,
    create_enum_if_absent,
    create_tenant_table,
    disable_tenant_rls,
    drop_enum_if_present,
    enable_tenant_rls,
    grant_execute_to_app_roles,
    make_append_only,
    tenant_id_column,
    unchain_documents,
)

__all__ = [
    "chain_documents",
    "create_enum_if_absent",
    "create_tenant_table",
    "disable_tenant_rls",
    "drop_enum_if_present",
    "enable_tenant_rls",
    "grant_execute_to_app_roles",
    "make_append_only",
    "tenant_id_column",
    "unchain_documents",
]
