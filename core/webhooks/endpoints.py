"""Managing a tenant's webhook endpoints (the owner's API and console page share these): each
change is checked (URL through the SSRF guard, event types against the catalogue) and
recorded in the audit log; secrets are derived on demand and never logged or stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.audit import changed, record_audit
from core.errors import Unprocessable
from core.extensions import db
from core.models import WebhookEndpoint
from core.queries import add_row, apply_changes
from core.webhooks import signing, targets
from core.webhooks.events import catalogue, emit_event

MAX_GRACE_HOURS = 7 * 24
_AUDITED = ("url", "description", "event_types", "enabled")


def _facts(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {name: getattr(endpoint, name) for name in _AUDITED}


def check(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its URL and event types checked (422 naming the field otherwise)."""
    errors: dict[str, list[str]] = {}
    if "url" in data:
        try:
            targets.check_registrable(data["url"])
        except targets.TargetRefused as exc:
            errors["url"] = [str(exc)]
    if "event_types" in data:
        known = catalogue()
        unknown = [name for name in data["event_types"] if name not in known]
        if unknown:
            errors["event_types"] = [f"unknown event type(s): {', '.join(unknown)} "
                                     "(GET /api/v1/tenant/webhooks/events lists them)"]
        data = {**data, "event_types": sorted(set(data["event_types"]))}
    if errors:
        raise Unprocessable("invalid webhook endpoint", errors)
    return data


def secret_of(endpoint: WebhookEndpoint) -> str:
    return signing.endpoint_secret(endpoint.tenant_id, endpoint.id, endpoint.secret_generation)


def create(tenant_id: uuid.UUID, data: dict[str, Any], actor: str) -> WebhookEndpoint:
    signing.signing_key()  # 409 before anything is written when webhooks are not configured
    endpoint = add_row(WebhookEndpoint, tenant_id, {**check(data), "created_by": actor})
    record_audit(tenant_id, "webhook.endpoint_created", target_type="webhook_endpoint",
                 target_id=endpoint.id, after=_facts(endpoint))
    return endpoint


def update(endpoint: WebhookEndpoint, changes: dict[str, Any]) -> WebhookEndpoint:
    before = _facts(endpoint)
    apply_changes(endpoint, check(changes))
    old, new = changed(before, _facts(endpoint))
    if new:
        record_audit(endpoint.tenant_id, "webhook.endpoint_updated",
                     target_type="webhook_endpoint", target_id=endpoint.id, before=old, after=new)
    return endpoint


def delete(endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its deliveries (history and dead letters go with it)."""
    record_audit(endpoint.tenant_id, "webhook.endpoint_deleted", target_type="webhook_endpoint",
                 target_id=endpoint.id, before=_facts(endpoint))
    db.session.delete(endpoint)
    db.session.flush()


def rotate(endpoint: WebhookEndpoint, grace_hours: int) -> str:
    """A new secret; the previous one keeps signing (a second signature) for ``grace_hours``.
    Returns the new secret."""
    signing.signing_key()
    endpoint.secret_generation += 1
    endpoint.previous_secret_until = (datetime.now(UTC) + timedelta(hours=grace_hours)
                                      if grace_hours else None)
    db.session.flush()
    record_audit(endpoint.tenant_id, "webhook.secret_rotated", target_type="webhook_endpoint",
                 target_id=endpoint.id, after={"generation": endpoint.secret_generation,
                                               "previous_valid_until":
                                                   endpoint.previous_secret_until})
    return secret_of(endpoint)


def ping(endpoint: WebhookEndpoint) -> int:
    """Queue a ``webhook.ping`` for this endpoint alone (enabled ones)."""
    return emit_event(endpoint.tenant_id, "webhook.ping", {"endpoint_id": endpoint.id},
                      endpoint_id=endpoint.id)
