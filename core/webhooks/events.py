"""The catalogue of webhook event types, and ``emit_event``: queue one delivery per endpoint
subscribed to an event, in the caller's transaction.

Core declares ``module.enabled``, ``module.disabled`` and ``webhook.ping``; each plugin declares
its own with the ``tenantry_webhook_events`` hook, named ``<module key>.<...>`` (checked: a
plugin cannot speak for another module). Emitting an undeclared type is a programming error
(ValueError), so a typo cannot silently send nothing.

A delivery is written in the transaction of the change it reports: a sale that rolls back
sends no ``pos.receipt.created``, and one that commits cannot lose its event. Its body is the
Standard Webhooks payload ``{"type", "timestamp", "data"}``, serialised once (compact, keys
sorted) and kept byte for byte; money and quantities are strings, as in the API.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from core.app_state import app_state
from core.extensions import db
from core.plugins import PluginError
from core.rls import tenant_context
from core.tenancy import tenancy

# One statement: a delivery for each enabled endpoint of the tenant subscribed to the type (an
# empty list subscribes to every type), or for the one endpoint named (a ping). The message
# id is per delivery ("msg_" + 32 hex).
_QUEUE = text("""
    INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, message_id, event_type, body)
    SELECT e.tenant_id, gen_random_uuid(), e.id,
           'msg_' || replace(gen_random_uuid()::text, '-', ''), CAST(:type AS varchar),
           CAST(:body AS text)
      FROM webhook_endpoints e
     WHERE e.tenant_id = :tenant_id AND e.enabled
       AND CASE WHEN CAST(:endpoint_id AS uuid) IS NULL
                THEN e.event_types = '{}' OR CAST(:type AS varchar) = ANY (e.event_types)
                ELSE e.id = CAST(:endpoint_id AS uuid) END""")

_ANY_ENABLED = text("SELECT EXISTS (SELECT FROM webhook_endpoints "
                    "WHERE tenant_id = :tenant_id AND enabled)")


@dataclass(frozen=True)
class WebhookEvent:
    """An event type a module can send: ``type`` is ``<module key>.<noun>.<verb>`` (e.g.
    ``pos.receipt.refunded``); ``description`` says when it is sent and what ``data`` holds."""

    type: str
    description: str


CORE_EVENTS = (
    WebhookEvent("module.enabled", "A module was enabled for the tenant. data: module"),
    WebhookEvent("module.disabled", "A module was disabled for the tenant (its data is kept). "
                                    "data: module"),
    WebhookEvent("webhook.ping", "Sent on request to one endpoint, to test it. data: "
                                 "endpoint_id"),
)


def catalogue() -> dict[str, tuple[str, WebhookEvent]]:
    """Event type -> (module key, or "core"; the event), for this app's installed plugins."""
    state = app_state()
    if state.webhook_events is not None:
        return state.webhook_events
    found = {event.type: ("core", event) for event in CORE_EVENTS}
    for key, answers in app_state().registry.call_each("tenantry_webhook_events"):
        for answer in answers or ():
            for event in answer or ():
                if not isinstance(event, WebhookEvent) or not event.type.startswith(key + "."):
                    raise PluginError(f"plugin {key!r}: tenantry_webhook_events() must return "
                                      f"core.sdk.WebhookEvent objects whose type starts with "
                                      f"'{key}.', not {event!r}")
                if event.type in found:
                    raise PluginError(f"webhook event {event.type!r} is declared twice")
                found[event.type] = (key, event)
    state.webhook_events = found
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def message_body(event_type: str, data: dict[str, Any], now: datetime | None = None) -> str:
    timestamp = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data},
                      default=_plain, sort_keys=True, separators=(",", ":"))


def emit_event(tenant_id: uuid.UUID, event_type: str, data: dict[str, Any], *,
               endpoint_id: uuid.UUID | None = None) -> int:
    """Queue ``event_type`` with ``data`` for every subscribed endpoint of ``tenant_id`` (or
    only ``endpoint_id``) in the current transaction; returns how many deliveries. The
    worker sends them after the commit."""
    if event_type not in catalogue():
        raise ValueError(f"webhook event {event_type!r} is not declared (core.webhooks.events; "
                         "plugins: the tenantry_webhook_events hook)")
    with tenant_context(tenant_id):
        # Most tenants have no endpoint: then no statement at all (known per state_version).
        if endpoint_id is None and not tenancy().webhook_endpoints_enabled(
                tenant_id, lambda: db.session.execute(_ANY_ENABLED, {
                    "tenant_id": tenant_id}).scalar()):
            return 0
        result = db.session.execute(_QUEUE, {
            "tenant_id": tenant_id, "type": event_type, "body": message_body(event_type, data),
            "endpoint_id": endpoint_id})
    return result.rowcount
