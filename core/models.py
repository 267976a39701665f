"""Core tables: platform-wide (tenants, platform users, module registry, templates, platform
console sessions) and tenant-owned (users, module toggles, API keys, idempotency records,
console sessions).

Tenant-owned tables follow docs/architecture.md ("Tenancy and isolation"): ``tenant_id`` first
in the primary key and in every unique constraint, a server default taken from
``app.tenant_id``, composite foreign keys, and an RLS policy created by the migration
(``core.migration_kit.enable_tenant_rls``). ``TenantMixin`` gives the column.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db

TENANT_ID_DEFAULT = text("NULLIF(current_setting('app.tenant_id', true), '')::uuid")

TENANT_STATUSES = ("provisioning", "active", "inactive", "failed")
USER_ROLES = ("owner", "admin", "cashier")
API_KEY_ROLES = ("user", "admin")

# Column types of amounts, for every module's tables (core.schemas' money_field and
# quantity_field match them): money to the cent, quantities to the thousandth, percentages
# (tax rates) to a hundredth.
MONEY = Numeric(14, 2)
QUANTITY = Numeric(14, 3)
RATE = Numeric(5, 2)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class TenantMixin:
    """The tenant column every tenant-owned table starts with."""

    # sort_order puts tenant_id first in the table, hence first in the primary key.
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=TENANT_ID_DEFAULT, sort_order=-1)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow,
                                                 onupdate=utcnow)


# --------------------------------------------------------------------------- platform-wide


# A tenant's slug, its host label: the table's check, the lifecycle's validation, and what
# core.tenancy relies on to write a slug into SQL text.
TENANT_SLUG_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class Tenant(TimestampMixin, db.Model):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("status IN ('provisioning', 'active', 'inactive', 'failed')",
                        name="status"),
        CheckConstraint(f"slug ~ '{TENANT_SLUG_PATTERN}'", name="slug"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), server_default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Bumped by the database on any change to the tenant, its module toggles (migration
    # c0a1f000000f) or what authentication reads of its users and API keys (c0a1f0000010):
    # what every worker's cache is checked against (core/tenancy.py).
    state_version: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))


class PlatformUser(TimestampMixin, db.Model):
    __tablename__ = "platform_users"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class PlatformConsoleSession(db.Model):
    """A platform admin's signed-in console (core.console.sessions): only the SHA-256 of the
    cookie's random token is stored. Logout deletes the row."""

    __tablename__ = "platform_console_sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    platform_user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("platform_users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    expires_at: Mapped[datetime]


class ModuleRecord(TimestampMixin, db.Model):
    """The module registry: what is installed (migrated) and its platform metadata."""

    __tablename__ = "modules"

    key: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    installed_version: Mapped[str | None] = mapped_column(String(40))
    installed_at: Mapped[datetime | None]


class Template(TimestampMixin, db.Model):
    """A named set of modules with feature values, applied to tenants."""

    __tablename__ = "templates"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    # {"catalog": {"feature": value}, "stock": {}}
    modules: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class LoginThrottle(db.Model):
    """Failed logins per account, per account and client address, and per client address
    (core/auth/throttle.py), keyed by a SHA-256 so no e-mail or address is stored."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(server_default=text("0"))
    window_started_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    locked_until: Mapped[datetime | None]


class RateLimitCounter(db.Model):
    """Requests per key (a SHA-256 of "kind|id") in one fixed window (core/rate_limits.py);
    UNLOGGED, see migration c0a1f0000007."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(server_default=text("0"))


# --------------------------------------------------------------------------- tenant-owned


class User(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        CheckConstraint("role IN ('owner', 'admin', 'cashier')", name="role"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    # Bumped on password change/deactivation: tokens carrying an older value stop working.
    token_version: Mapped[int] = mapped_column(server_default=text("0"), default=0)


class TenantModule(TenantMixin, db.Model):
    """A tenant's toggle for one module. No row = disabled."""

    __tablename__ = "tenant_modules"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    module_key: Mapped[str] = mapped_column(String(63), ForeignKey("modules.key"),
                                            primary_key=True)
    enabled: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    features: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"), default=dict)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow,
                                                 onupdate=utcnow)


class ApiKey(TenantMixin, db.Model):
    """An API key. Only its SHA-256 and a display prefix are stored; never the key."""

    __tablename__ = "api_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key_hash"),
        CheckConstraint("role IN ('user', 'admin')", name="role"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        # The pre-tenant look-up (core.auth.apikeys) searches by hash alone.
        Index("ix_api_keys_key_hash", "key_hash"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary)
    label: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10), server_default="user")
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ConsoleSession(TenantMixin, db.Model):
    """A tenant user's signed-in console (core.console.sessions): only the SHA-256 of the
    cookie's random token is stored. Logout deletes the row; deactivating the user or changing
    their password (token_version) ends it too."""

    __tablename__ = "console_sessions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    token_version: Mapped[int]  # the user's token_version at sign-in
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    expires_at: Mapped[datetime]


class IdempotencyRecord(TenantMixin, db.Model):
    """The stored 2xx answer to a create request sent with an Idempotency-Key, per tenant,
    caller and endpoint (core.idempotency). A request still running has no row: an advisory
    lock of its own transaction marks it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    # Identity.actor ("user:<id>", "api_key:<id>"); "*" for records stored before keys were
    # scoped to callers.
    caller: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_body: Mapped[dict | list | None] = mapped_column(JSONB)
    response_headers: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)


class LedgerEntry(TenantMixin, db.Model):
    """One chained document: its place in the chain and the hashes that prove it. Append-only;
    written by the database (``tenantry_ledger_link``) at the commit that posts the document;
    the chain's last entry is its head."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "chain", "document_id"),
        CheckConstraint("seq >= 1", name="seq"),
        CheckConstraint("(seq = 1) = (prev_hash IS NULL)", name="prev_hash"),
    )

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    scope_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    content_hash: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)


class AuditColumns:
    """What every audit event records (core/audit.py): who, when, from where, what, on what."""

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict | None] = mapped_column(JSONB)


class AuditEvent(TenantMixin, AuditColumns, db.Model):
    """Who did what to the tenant, when and from where. Append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("ix_audit_events_tenant_id_occurred_at", "tenant_id", "occurred_at"),
    )


class PlatformAuditEvent(AuditColumns, db.Model):
    """A platform operator's action (tenants, the module registry, templates). Append-only."""

    __tablename__ = "platform_audit_events"
    __table_args__ = (Index("ix_platform_audit_events_occurred_at", "occurred_at"),)

    # The tenant acted on, if any (no foreign key: the record outlives an erased tenant; not
    # named tenant_id: this is a platform table, not one of a tenant's).
    about_tenant_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class TenantErasureRequest(db.Model):
    """A platform admin's request to erase an inactive tenant (core/erasure_requests.py): the
    operator's scheduled job (``tenantry tenants erase --scheduled``) erases it once
    ``erase_after`` has passed and it is still inactive. The web app never erases: that needs
    the owner role, which requests do not hold."""

    __tablename__ = "tenant_erasure_requests"

    # The tenant's id (a platform table has no tenant_id column); the row goes with the tenant.
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    erase_after: Mapped[datetime]


class TenantTombstone(db.Model):
    """What is left of an erased tenant (core/tenant_erasure.py): its former id and slug, when,
    and the receipt (rows deleted per table). No tenant data."""

    __tablename__ = "tenant_tombstones"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)  # the tenant's
    slug: Mapped[str] = mapped_column(String(63))
    erased_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    erased_by: Mapped[str] = mapped_column(String(100))
    receipt: Mapped[dict] = mapped_column(JSONB)


class WebhookEndpoint(TenantMixin, TimestampMixin, db.Model):
    """A URL the tenant subscribed to events (core/webhooks). No secret is stored: it is
    derived from ``WEBHOOK_SIGNING_KEY``, the endpoint and ``secret_generation``
    (core/webhooks/signing.py); rotating bumps the generation, and the previous one keeps
    signing too until ``previous_secret_until``."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), server_default="")
    # Empty: every event type.
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(80)), server_default="{}")
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    secret_generation: Mapped[int] = mapped_column(server_default=text("1"))
    previous_secret_until: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(100))


class WebhookDelivery(TenantMixin, db.Model):
    """One message for one endpoint: the exact body sent (a replay sends these bytes again,
    under the same ``message_id``), where it stands in the retry schedule, and how the last
    attempt went. ``position`` orders an endpoint's messages (they go out one at a time, in
    that order)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "endpoint_id"],
                             ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "replay_of"],
                             ["webhook_deliveries.tenant_id", "webhook_deliveries.id"]),
        Index("ix_webhook_deliveries_queue", "tenant_id", "endpoint_id", "position",
              postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_deliveries_due", "next_attempt_at",
              postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_deliveries_tenant_id_position", "tenant_id", "position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None]
    replay_of: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
