"""The plugin SDK: the one surface of core that a Tenantry plugin imports.

A plugin (ours or a third party's) imports Tenantry only from here, from ``core.sdk.migrations``
in its Alembic revisions, and from the public ``api`` module of a plugin it declares in
``Module.requires`` (e.g. ``plugins.catalog.api``). The import-linter contracts in setup.cfg
hold our own plugins to it (``python3 dev.py lint``); docs/plugin-authoring.md documents every
name below. Anything else in ``core`` is internal and may change without notice.

``SDK_VERSION`` follows semantic versioning: a name removed or changed incompatibly raises the
major version, a name added raises the minor version (CHANGELOG.md records each change).
"""

from core.app_state import TenantryState, app_state
from core.audit import changed as audit_changes
from core.audit import record_audit
from core.auth.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH
from core.auth.passwords import MIN_LENGTH as PASSWORD_MIN_LENGTH
from core.auth.passwords import hash_password, verify_password
from core.auth.routes import TokenSchema
from core.auth.services import issue_tenant_token
from core.blueprint import Blueprint
from core.commands import run_worker
from core.config import Setting, integer_at_least, plain_text
from core.console import is_console_page
from core.console.pages import ConsoleBlueprint
from core.console.rendering import (
    actor_names,
    field_errors,
    form_lines,
    page_of,
    read_form,
    redirect_with_notice,
    render_page,
    uuid_arg,
)
from core.contacts import ContactBook, ContactQueryArgsSchema, ContactSchema, ContactUpdateSchema
from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PaymentRequired,
    ServiceUnavailable,
    Unprocessable,
)
from core.extensions import db
from core.hookspecs import hookspec
from core.idempotency import IDEMPOTENCY_KEY_HEADER, idempotent, run_once
from core.ledger import LedgerChain
from core.models import (
    MONEY,
    QUANTITY,
    RATE,
    USER_ROLES,
    Tenant,
    TenantMixin,
    TimestampMixin,
    User,
    new_id,
    utcnow,
)
from core.module_calls import call_if_enabled
from core.module_data import ModuleData
from core.pagination import SQLPage
from core.pipeline import after_request_commit, before_request_commit
from core.plugins import SDK_VERSION, Module, PluginError, PluginRegistry, hookimpl
from core.queries import (
    add_row,
    apply_changes,
    by_id,
    contains_pattern,
    get_or_404,
    ordered,
    sort_choices,
    value_taken,
    where_given,
)
from core.report_definitions import RESERVED_PARAMETERS, DateRangeSchema, ReportDefinition
from core.rls import tenant_context
from core.routing import platform_blueprint
from core.schema_migrations import plugin_folder
from core.schemas import NON_ZERO, TRIMMED, FixedDecimal, money_field, quantity_field
from core.tenancy import feature, module_state
from core.tenant_lifecycle import create_user as create_tenant_user
from core.tenant_lifecycle import get_tenant
from core.webhooks.events import WebhookEvent
from core.webhooks.events import emit_event as emit_webhook_event

# Grouped by what a plugin does with them (the order of docs/plugin-authoring.md), not sorted.
__all__ = [  # noqa: RUF022
    # The plugin contract: describe the module, implement and offer hooks, find your migrations.
    "SDK_VERSION", "Module", "PluginError", "PluginRegistry", "hookimpl", "hookspec",
    "plugin_folder", "app_state", "TenantryState", "LedgerChain", "ModuleData",
    # Settings a module declares (tenantry_settings).
    "Setting", "integer_at_least", "plain_text",
    # HTTP: blueprints and their guards, idempotent creates, pages, errors, request hooks.
    "Blueprint", "platform_blueprint", "idempotent", "IDEMPOTENCY_KEY_HEADER", "run_once",
    "SQLPage", "before_request_commit", "after_request_commit",
    # The audit log (core/audit.py): who did what, in the caller's transaction.
    "record_audit", "audit_changes",
    # Webhooks (core/webhooks): the events a module declares and queues in its transaction.
    "WebhookEvent", "emit_webhook_event",
    # Commands: an outbox's one-pass command and --loop worker.
    "run_worker",
    "Conflict", "DomainError", "Forbidden", "NotFound", "PaymentRequired", "ServiceUnavailable",
    "Unprocessable",
    # Console pages (docs/console.md).
    "ConsoleBlueprint", "is_console_page", "render_page", "read_form", "redirect_with_notice",
    "page_of",
    "form_lines", "field_errors", "uuid_arg", "actor_names",
    # Schemas: the field rules every module spells the same way.
    "TRIMMED", "NON_ZERO", "FixedDecimal", "money_field", "quantity_field",
    # Data: the session, the tenant scope, column types, mixins and query helpers.
    "db", "tenant_context", "TenantMixin", "TimestampMixin", "MONEY", "QUANTITY", "RATE",
    "new_id", "utcnow", "add_row", "apply_changes", "by_id", "contains_pattern", "get_or_404",
    "ordered", "sort_choices", "value_taken", "where_given",
    "ContactBook", "ContactSchema", "ContactUpdateSchema", "ContactQueryArgsSchema",
    # Other modules: toggles and features, and calls into a module only where it is enabled.
    "module_state", "feature", "call_if_enabled",
    # Reports contributed to the reports module (without requiring it).
    "ReportDefinition", "DateRangeSchema", "RESERVED_PARAMETERS",
    # Tenants, users and their credentials (the users and billing modules).
    "Tenant", "get_tenant", "User", "USER_ROLES", "create_tenant_user", "hash_password",
    "verify_password", "PASSWORD_MIN_LENGTH", "PASSWORD_MAX_LENGTH", "issue_tenant_token",
    "TokenSchema",
]
