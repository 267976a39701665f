"""API key management (runbook 002): create, list, revoke and rotate a tenant's keys.

Services in the house style: explicit arguments, flush never commit, domain errors. The raw key
leaves this module exactly once, inside the ``IssuedKey`` that ``create_key``/``rotate_key``
return; the database keeps only its SHA-256 and a display prefix (``core.auth.apikeys``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.audit import record_audit
from core.auth.apikeys import generate_key
from core.errors import NotFound, Unprocessable
from core.extensions import db
from core.models import API_KEY_ROLES, ApiKey
from core.queries import get_or_404
from core.rls import tenant_context

# A grace period longer than a week is a second key, not a rotation.
MAX_GRACE_SECONDS = 7 * 24 * 3600
LABEL_MAX = 200

ACTIVE, EXPIRING, EXPIRED, REVOKED = "active", "expiring", "expired", "revoked"


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the row, and the raw value to hand to the caller once."""

    key: ApiKey
    raw: str


def key_status(key: ApiKey, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if key.revoked_at is not None:
        return REVOKED
    if key.expires_at is not None:
        return EXPIRED if key.expires_at <= now else EXPIRING
    return ACTIVE


def _validate(label: str, role: str) -> None:
    errors = {}
    if not label or not label.strip() or len(label) > LABEL_MAX:
        errors["label"] = [f"1 to {LABEL_MAX} characters"]
    if role not in API_KEY_ROLES:
        errors["role"] = [f"must be one of {', '.join(API_KEY_ROLES)}"]
    if errors:
        raise Unprocessable("invalid API key", errors)


def create_key(tenant_id: uuid.UUID, *, label: str, role: str = "user",
               created_by: str | None = None, expires_at: datetime | None = None) -> IssuedKey:
    """A new key of ``tenant_id``; the raw value is in the result and nowhere else."""
    _validate(label, role)
    new = generate_key()
    with tenant_context(tenant_id):
        key = ApiKey(tenant_id=tenant_id, id=uuid.uuid4(), prefix=new.prefix,
                     key_hash=new.key_hash, label=label.strip(), role=role,
                     created_by=(created_by or "")[:80] or None, created_at=datetime.now(UTC),
                     expires_at=expires_at)
        db.session.add(key)
        db.session.flush()
    record_audit(tenant_id, "api_key.created", target_type="api_key", target_id=key.id,
                 after={"label": key.label, "role": key.role, "prefix": key.prefix,
                        "expires_at": key.expires_at})
    return IssuedKey(key, new.raw)


def list_keys(tenant_id: uuid.UUID) -> list[ApiKey]:
    """Every key of the tenant, newest first (revoked and expired ones included)."""
    with tenant_context(tenant_id):
        return list(db.session.execute(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)).scalars())


def get_key(tenant_id: uuid.UUID, key_id: uuid.UUID, *, for_update: bool = False) -> ApiKey:
    # for_update: rotation and revocation of one key must not interleave (two rotations
    # would leave two successors).
    with tenant_context(tenant_id):
        return get_or_404(ApiKey, key_id, "API key", for_update, tenant_id=tenant_id)


def revoke_key(tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    """Revoke at once (idempotent: revoking a revoked key keeps the first revocation time)."""
    key = get_key(tenant_id, key_id, for_update=True)
    if key.revoked_at is None:
        with tenant_context(tenant_id):
            key.revoked_at = datetime.now(UTC)
            db.session.flush()
        record_audit(tenant_id, "api_key.revoked", target_type="api_key", target_id=key.id,
                     after={"label": key.label, "prefix": key.prefix})
    return key


def rotate_key(tenant_id: uuid.UUID, key_id: uuid.UUID, *, grace_seconds: int = 0,
               created_by: str | None = None) -> tuple[IssuedKey, ApiKey]:
    """Replace a key with a new one of the same label and role.

    Without a grace period the old key stops working now (revoked); with one it keeps working
    until ``now + grace_seconds`` (``expires_at``; an earlier expiry is kept), so that clients
    can switch over without an outage. Returns the new key and the old row.
    """
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise Unprocessable("invalid grace period", {"grace_seconds": [
            f"between 0 and {MAX_GRACE_SECONDS} seconds"]})
    old = get_key(tenant_id, key_id, for_update=True)
    now = datetime.now(UTC)
    if key_status(old, now) in (REVOKED, EXPIRED):
        raise NotFound("API key not found")
    issued = create_key(tenant_id, label=old.label, role=old.role, created_by=created_by)
    with tenant_context(tenant_id):
        if grace_seconds == 0:
            old.revoked_at = now
        else:
            until = now + timedelta(seconds=grace_seconds)
            old.expires_at = min(old.expires_at, until) if old.expires_at else until
        db.session.flush()
    record_audit(tenant_id, "api_key.rotated", target_type="api_key", target_id=old.id,
                 after={"successor_id": issued.key.id, "grace_seconds": grace_seconds})
    return issued, old
