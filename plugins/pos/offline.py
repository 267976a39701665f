"""Offline sales: receipts a till recorded with its own id while offline and sends (again) later.

A till gives every sale a UUID (``client_receipt_id``) and the time it happened
(``occurred_at``). The database keeps one receipt per tenant, register and client id (a unique
constraint), so a replay — the answer was lost, a second tab sends the same queue, a batch is
re-sent after reconnecting — finds the original and changes nothing; two replays racing wait on
the constraint and the loser returns the winner's receipt. The SHA-256 of what the till sent
(``fingerprint``) tells a replay from a different sale reusing an id (422, nothing written).

``sync_batch`` takes a till's queue in order, each sale in its own savepoint: one refused sale
(no open shift, not enough stock under the tenant's rule, an unknown product) is reported with
its status and errors and does not block the ones after it; the till keeps what failed and
sends it again. Where the tenant allows negative stock, a sale that took a balance below zero is
recorded and the outcome names the balances (``stock_below_zero``): never silently dropped.

A synced sale joins the register's open shift (its cash is in the drawer being counted): close a
shift once the till has synced, or the sale waits (409) for the next shift. docs/sales-and-pos.md
has the guarantees and their limits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core.sdk import DomainError, Unprocessable, db
from plugins.pos.models import Receipt

# How far ahead of the server's clock a till's clock may be before a sale is refused.
CLOCK_SKEW = timedelta(minutes=5)
SALE_KEYS = ("occurred_at", "discount", "lines", "payments")


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 2, 2.0 and 2.00 are one quantity
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def fingerprint(data: dict[str, Any]) -> str:
    """SHA-256 of the sale as the till sent it (what it sells, how it is paid, when)."""
    sale = {key: data.get(key) for key in SALE_KEYS}
    text = json.dumps(_canonical(sale), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def occurred_at(data: dict[str, Any], now: datetime) -> datetime:
    """When the sale happened: the till's time, else now; 422 when it is in the future."""
    when = data.get("occurred_at")
    if when is None:
        return now
    if when > now + CLOCK_SKEW:
        raise Unprocessable("the sale's time is in the future: check the till's clock", {
            "occurred_at": [f"later than the server's time ({now.isoformat()}) by more than "
                            f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes"]})
    return when


def find(register_id: uuid.UUID, client_receipt_id: uuid.UUID) -> Receipt | None:
    return db.session.execute(select(Receipt).where(
        Receipt.register_id == register_id,
        Receipt.client_receipt_id == client_receipt_id)).scalar_one_or_none()


def original(existing: Receipt, sent_fingerprint: str) -> Receipt:
    """The receipt a replay names; 422 when the id was first used for another sale."""
    if existing.client_fingerprint != sent_fingerprint:
        raise Unprocessable("this client_receipt_id already names another sale on this register",
                            {"client_receipt_id": ["used for a sale with other lines, payments, "
                                                   "discount or time; give a new sale a new id"]})
    return existing


def _error_body(exc: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"message": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    return body


def sync_batch(items: list[dict[str, Any]], record: Callable[[dict[str, Any]], Any]
               ) -> dict[str, Any]:
    """Record a till's queue in order; ``record(item)`` answers a ``receipts.Sale``.

    Each sale runs in a savepoint: a refused one rolls back alone and is reported, the others
    stay. Outcomes keep the order of the queue.
    """
    results = []
    for item in items:
        outcome: dict[str, Any] = {"client_receipt_id": item["client_receipt_id"]}
        try:
            with db.session.begin_nested():
                sale = record(item)
        except DomainError as exc:
            outcome.update(status="failed", http_status=exc.status, error=_error_body(exc),
                           stock_below_zero=[])
        else:
            outcome.update(status="created" if sale.created else "replayed",
                           http_status=201 if sale.created else 200, receipt=sale.receipt,
                           stock_below_zero=sale.stock_below_zero)
        results.append(outcome)
    counts = {status: sum(1 for r in results if r["status"] == status)
              for status in ("created", "replayed", "failed")}
    return {"results": results, **counts}
