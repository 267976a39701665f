"""Webhook endpoint secrets and signatures (Standard Webhooks, signed with the reference
``standardwebhooks`` package).

No secret is stored. An endpoint's secret is ``whsec_`` + base64 of
HMAC-SHA256(``WEBHOOK_SIGNING_KEY``, tenant id, endpoint id, generation): the database holds the
generation only, so a copy of the database signs nothing. Rotating bumps the generation; until
``previous_secret_until`` a message carries two signatures (new and old secret), which the
specification's verifiers accept, so receivers can switch over without losing a message.
Changing ``WEBHOOK_SIGNING_KEY`` itself changes every endpoint's secret (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from flask import current_app
from standardwebhooks import Webhook

from core.errors import Conflict

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def signing_key() -> bytes:
    """The deployment's key; 409 while it is not configured (webhooks stay off)."""
    key = current_app.config.get("WEBHOOK_SIGNING_KEY")
    if not key:
        raise Conflict("webhooks are not configured on this deployment: the operator must set "
                       "WEBHOOK_SIGNING_KEY")
    return key.encode()


def endpoint_secret(tenant_id: uuid.UUID, endpoint_id: uuid.UUID, generation: int) -> str:
    """The endpoint's secret of that generation, as receivers configure it (``whsec_...``)."""
    label = f"tenantry webhook secret|{tenant_id}|{endpoint_id}|{generation}".encode()
    digest = hmac.new(signing_key(), label, hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode()


def live_generations(generation: int, previous_until: datetime | None,
                     now: datetime) -> list[int]:
    """The generations that sign a message sent at ``now``: the current one, and the previous
    one while its grace window lasts."""
    if previous_until is not None and generation > 1 and now < previous_until:
        return [generation, generation - 1]
    return [generation]


def signature_headers(tenant_id: uuid.UUID, endpoint_id: uuid.UUID, generations: list[int],
                      message_id: str, body: str, now: datetime | None = None
                      ) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (the timestamp is the attempt's:
    receivers refuse stale ones, so a retry or a replay is signed afresh over the same
    bytes)."""
    now = now or datetime.now(UTC)
    signatures = [Webhook(endpoint_secret(tenant_id, endpoint_id, generation))
                  .sign(msg_id=message_id, timestamp=now, data=body)
                  for generation in generations]
    return {"webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures)}
