"""Billing services: plans, usage counters and the free-tier check.

Explicit arguments, flush never commit, domain errors. Callers bind the tenant (request or
``tenant_context``); every statement also names the tenant, so the primary keys' leading
``tenant_id`` serves each query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from core.sdk import PaymentRequired, Unprocessable, db
from plugins.billing.models import (
    DEFAULT_PLAN,
    PLANS,
    USAGE_SHARDS,
    BillingAccount,
    UsageHour,
    UsageTotal,
)

# billing_count_call (migration bi0a00000002) adds 1 to the all-time and the hourly counter,
# and lets a transaction that wrote nothing else commit without waiting for the disk. The shard
# is the backend's pid: concurrent transactions run on different connections, so they mostly add
# to different rows and do not queue on one row lock.
_COUNT_CALL = text("SELECT billing_count_call(:tenant_id, :endpoint, :shards)")

ENDPOINT_LABEL_MAX = 200


@dataclass(frozen=True)
class Usage:
    total_calls: int
    calls_by_endpoint: dict[str, int]
    last_24h_count: int


# --------------------------------------------------------------------------- metering


def parse_metered(declared: Iterable[Iterable[str] | None]) -> frozenset[tuple[str, str]]:
    """(METHOD, endpoint) pairs from every plugin's ``tenantry_billing_metered_endpoints``."""
    actions = set()
    for items in declared:
        for item in items or ():
            method, _, endpoint = str(item).strip().rpartition(" ")
            actions.add(((method or "POST").strip().upper(), endpoint))
    return frozenset(actions)


def record_call(tenant_id: uuid.UUID, endpoint: str) -> None:
    """Count one call of ``endpoint`` (a label such as ``GET /cases``) for the tenant, in the
    current transaction."""
    db.session.execute(_COUNT_CALL, {"tenant_id": tenant_id,
                                     "endpoint": endpoint[:ENDPOINT_LABEL_MAX],
                                     "shards": USAGE_SHARDS})


def total_calls(tenant_id: uuid.UUID) -> int:
    return int(db.session.execute(
        select(func.coalesce(func.sum(UsageTotal.calls), 0))
        .where(UsageTotal.tenant_id == tenant_id)).scalar_one())


def usage(tenant_id: uuid.UUID, now: datetime | None = None) -> Usage:
    """Totals per endpoint and the calls of the last 24 hours (hourly resolution: the hours
    that started less than 24 hours ago)."""
    now = now or datetime.now(UTC)
    rows = db.session.execute(
        select(UsageTotal.endpoint, func.sum(UsageTotal.calls))
        .where(UsageTotal.tenant_id == tenant_id)
        .group_by(UsageTotal.endpoint).order_by(UsageTotal.endpoint)).all()
    by_endpoint = {endpoint: int(calls) for endpoint, calls in rows}
    last_day = db.session.execute(
        select(func.coalesce(func.sum(UsageHour.calls), 0))
        .where(UsageHour.tenant_id == tenant_id,
               UsageHour.hour > now - timedelta(hours=24))).scalar_one()
    return Usage(sum(by_endpoint.values()), by_endpoint, int(last_day))


# --------------------------------------------------------------------------- plans


def get_account(tenant_id: uuid.UUID) -> BillingAccount | None:
    return db.session.execute(
        select(BillingAccount).where(BillingAccount.tenant_id == tenant_id)).scalar_one_or_none()


def get_plan(tenant_id: uuid.UUID) -> str:
    account = get_account(tenant_id)
    return account.plan if account else DEFAULT_PLAN


def ensure_account(tenant_id: uuid.UUID) -> None:
    """The tenant's account row on the default plan, unless it has one."""
    db.session.execute(insert(BillingAccount).values(
        tenant_id=tenant_id, plan=DEFAULT_PLAN, updated_by="billing")
        .on_conflict_do_nothing(index_elements=[BillingAccount.tenant_id]))


def set_plan(tenant_id: uuid.UUID, plan: str, *, actor: str | None) -> BillingAccount:
    if plan not in PLANS:
        raise Unprocessable("unknown plan", {"plan": [f"must be one of {', '.join(PLANS)}"]})
    statement = insert(BillingAccount).values(
        tenant_id=tenant_id, plan=plan, updated_by=(actor or "")[:80] or None,
        updated_at=datetime.now(UTC))
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[BillingAccount.tenant_id],
        set_={"plan": statement.excluded.plan, "updated_by": statement.excluded.updated_by,
              "updated_at": statement.excluded.updated_at}))
    db.session.expire_all()
    return get_account(tenant_id)


def check_free_tier(tenant_id: uuid.UUID, limit: int) -> None:
    """402 when a ``free`` tenant has made ``limit`` calls or more (the call being checked
    would be one over: ClinCore counted it first and refused at ``COUNT > limit``)."""
    if get_plan(tenant_id) != "free":
        return
    used = total_calls(tenant_id)
    if used >= limit:
        raise PaymentRequired(
            f"free tier exhausted: {used} of {limit} free API calls used; this action needs "
            "the paid plan (the platform operator can switch it: "
            "PUT /api/v1/platform/tenants/<id>/plan or `tenantry billing set-plan`)")
