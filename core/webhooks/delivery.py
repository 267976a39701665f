"""The webhook queue's worker: sends each endpoint's messages one at a time, in order, with
retries, and keeps what never got through as dead letters.

Order per endpoint: only an endpoint's oldest pending message (lowest ``position``) is ever
sent; a failed one holds back the later ones until it succeeds or dies, so a receiver that was
down gets everything, in order, once it is back. Retries wait ``WEBHOOK_RETRY_SCHEDULE``
(default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27.5 hours in all, after the first
attempt); after the last, the message is ``dead`` (listed, replayable) and the next one goes.

Each attempt is its own short transaction holding a transaction-level advisory lock on its
endpoint (so two workers never send an endpoint's messages at once or out of order, and an
owner editing the endpoint is never blocked), committed before the next: an answer the
receiver gave is never lost to a later failure. A worker that dies between the receiver's
answer and the commit sends that message again with the same ``webhook-id``; receivers
de-duplicate on it (at-least-once delivery, as the specification says).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from core.audit import record_audit
from core.extensions import db
from core.models import WebhookDelivery, WebhookEndpoint
from core.rls import tenant_context
from core.webhooks import signing, targets

log = logging.getLogger("tenantry.webhooks")

_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended('webhook:' || :endpoint, 0))")


def due_tenants() -> list[uuid.UUID]:
    """Tenants with a delivery due now (tenantry_webhook_due_tenants(): ids only)."""
    rows = db.session.execute(text("SELECT tenantry_webhook_due_tenants()")).scalars().all()
    db.session.commit()
    return list(rows)


def _head(tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookDelivery | None:
    """The endpoint's oldest pending message (the only one that may go now)."""
    return db.session.execute(
        select(WebhookDelivery)
        .where(WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.endpoint_id == endpoint_id,
               WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.position).limit(1)).scalar_one_or_none()


def _record(delivery: WebhookDelivery, answer: targets.Answer, now: datetime) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code = now, answer.status
    delivery.last_error = answer.error
    if answer.delivered:
        delivery.status, delivery.delivered_at = "delivered", now
        return
    schedule = current_app.config["WEBHOOK_RETRY_SCHEDULE"]
    if delivery.attempts > len(schedule):
        delivery.status = "dead"
        log.warning("webhook dead: delivery=%s endpoint=%s after %s attempts: %s",
                    delivery.id, delivery.endpoint_id, delivery.attempts, answer.error)
        return
    delivery.next_attempt_at = now + timedelta(seconds=schedule[delivery.attempts - 1])


def _attempt(tenant_id: uuid.UUID, endpoint_id: uuid.UUID, due_only: bool) -> bool | None:
    """Send the endpoint's head message, in a transaction of its own: True when delivered,
    False when it failed, None when nothing was sent (none pending or due, endpoint disabled,
    or another worker holds it)."""
    try:
        if not db.session.execute(_LOCK, {"endpoint": str(endpoint_id)}).scalar():
            return None
        endpoint = db.session.get(WebhookEndpoint, (tenant_id, endpoint_id))
        delivery = _head(tenant_id, endpoint_id)
        now = datetime.now(UTC)
        if (endpoint is None or not endpoint.enabled or delivery is None
                or (due_only and delivery.next_attempt_at > now)):
            return None
        headers = signing.signature_headers(
            tenant_id, endpoint_id,
            signing.live_generations(endpoint.secret_generation,
                                     endpoint.previous_secret_until, now),
            delivery.message_id, delivery.body, now)
        answer = targets.post(endpoint.url, delivery.body, headers)
        _record(delivery, answer, now)
        log.info("webhook attempt: delivery=%s endpoint=%s event=%s attempt=%s status=%s",
                 delivery.id, endpoint_id, delivery.event_type, delivery.attempts,
                 answer.status if answer.status is not None else answer.error)
        return answer.delivered
    finally:
        db.session.commit()


def deliver(tenant_id: uuid.UUID, *, due_only: bool = True) -> tuple[int, int, int]:
    """Send the tenant's pending messages, each endpoint's in order, until each endpoint is
    empty, waiting or failing; returns (delivered, failed attempts, still pending).
    ``due_only``: respect the retry schedule (the worker loop); False tries each endpoint's
    head now (an operator's ``tenantry webhooks deliver``)."""
    delivered = failed = 0
    with tenant_context(tenant_id):
        endpoints = db.session.execute(
            select(WebhookDelivery.endpoint_id).distinct()
            .where(WebhookDelivery.tenant_id == tenant_id,
                   WebhookDelivery.status == "pending")).scalars().all()
        db.session.commit()
        for endpoint_id in endpoints:
            while (outcome := _attempt(tenant_id, endpoint_id, due_only)) is not None:
                if not outcome:
                    failed += 1
                    break  # it waits for its retry, and the later ones wait behind it
                delivered += 1
        pending = db.session.execute(
            select(func.count()).select_from(WebhookDelivery)
            .where(WebhookDelivery.tenant_id == tenant_id,
                   WebhookDelivery.status == "pending")).scalar_one()
        db.session.commit()
    return delivered, failed, pending


def replay(tenant_id: uuid.UUID, original: WebhookDelivery) -> WebhookDelivery:
    """Queue ``original`` again for its endpoint: the same ``webhook-id`` and body bytes (a
    receiver that already has it recognises it), signed afresh when sent, after the
    endpoint's other pending messages."""
    copy = WebhookDelivery(tenant_id=tenant_id, id=uuid.uuid4(), endpoint_id=original.endpoint_id,
                           message_id=original.message_id, event_type=original.event_type,
                           body=original.body, replay_of=original.id)
    db.session.add(copy)
    db.session.flush()
    record_audit(tenant_id, "webhook.delivery_replayed", target_type="webhook_delivery",
                 target_id=original.id, after={"replay": copy.id,
                                               "message_id": original.message_id})
    return copy
