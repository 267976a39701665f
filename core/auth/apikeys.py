"""API keys: generation, hashing, and the pre-tenant look-up by hash.

A key is ``tnt_`` + 43 URL-safe characters (256 bits). Only its SHA-256 and its first 12
characters (for people to recognise it) are stored; the raw key exists only in the response
that creates it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from core.extensions import db

KEY_PREFIX = "tnt_"
DISPLAY_PREFIX_LENGTH = 12
_FIND = text("SELECT key_id, tenant_id, role, label, last_used_at "
             "FROM tenantry_find_api_key(:key_hash)")


@dataclass(frozen=True)
class NewApiKey:
    raw: str
    prefix: str
    key_hash: bytes


@dataclass(frozen=True)
class ApiKeyMatch:
    key_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    label: str
    last_used_at: datetime | None
    expires_at: datetime | None = None  # read only where the match is cached (identity.py)

    def live_at(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


def hash_key(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def generate_key() -> NewApiKey:
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(raw=raw, prefix=raw[:DISPLAY_PREFIX_LENGTH], key_hash=hash_key(raw))


def looks_like_key(raw: str) -> bool:
    return raw.startswith(KEY_PREFIX) and 20 <= len(raw) <= 128


def find_live_key(raw: str) -> ApiKeyMatch | None:
    """The live key with this value, in any tenant (SECURITY DEFINER function), or None.

    The comparison happens on the SHA-256 in an index look-up: the time taken does not depend
    on how much of a guessed key is right, so no constant-time compare of raw keys is needed.
    """
    if not looks_like_key(raw):
        return None
    row = db.session.execute(_FIND, {"key_hash": hash_key(raw)}).first()
    if row is None:
        return None
    return ApiKeyMatch(*row)
