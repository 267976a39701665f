"""Billing tables: the tenant's plan, and usage counters kept as rollups (never a raw event
log that would have to be counted per request).

- ``billing_accounts``: one row per tenant (plan ``free`` or ``paid``). The plan lives with the
  tenant, not on ``cases`` as ClinCore's runbook once suggested. No row = ``free``.
- ``billing_usage_totals``: all-time calls per (tenant, endpoint, shard).
- ``billing_usage_hourly``: calls per (tenant, hour, endpoint, shard), for "last 24 hours".

Each call adds 1 to one row of each counter table with ``INSERT ... ON CONFLICT DO UPDATE``. The
``shard`` (``pg_backend_pid() % USAGE_SHARDS``) spreads concurrent requests of one tenant over
several rows, so two transactions rarely wait on the same row lock; readers sum the shards.
Reads are bounded by (endpoints x shards) rows for totals and (endpoints x shards x 25) for the
last day, however many millions of calls were made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.sdk import TenantMixin, db, utcnow

PLANS = ("free", "paid")
DEFAULT_PLAN = "free"
USAGE_SHARDS = 8


class BillingAccount(TenantMixin, db.Model):
    """The tenant's plan (one row per tenant; the primary key is the tenant)."""

    __tablename__ = "billing_accounts"
    __table_args__ = (
        CheckConstraint("plan IN ('free', 'paid')", name="plan"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    )

    plan: Mapped[str] = mapped_column(String(10), server_default=DEFAULT_PLAN,
                                      default=DEFAULT_PLAN)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow,
                                                 onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(80))


class UsageTotal(TenantMixin, db.Model):
    """All-time calls of one endpoint (one shard of the counter)."""

    __tablename__ = "billing_usage_totals"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    endpoint: Mapped[str] = mapped_column(String(200), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class UsageHour(TenantMixin, db.Model):
    """Calls of one endpoint in one UTC hour (one shard of the counter)."""

    __tablename__ = "billing_usage_hourly"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))

