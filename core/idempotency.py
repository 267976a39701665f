"""``Idempotency-Key`` for create endpoints (DESIGN.md §5).

Same key + same body → the stored response again, with ``Idempotent-Replayed: true``.
Same key + different body → 422. Same key while the first request still runs → 409.
Keys are scoped per tenant and endpoint (method + path) and kept IDEMPOTENCY_RETENTION_HOURS.

How it stays exactly-once:
1. The key is *claimed* in its own short committed transaction (INSERT ... ON CONFLICT DO
   NOTHING), so a concurrent duplicate sees the claim at once and gets 409 instead of running.
2. The view runs and **does not commit** (it flushes); this decorator stores the response on
   the claim row and commits the work and the stored response in one transaction. A crash in
   between commits neither, and the abandoned claim expires after ``STALE_CLAIM``.
3. A non-2xx answer changed nothing (house rule), so its claim is released: a retry runs again.

Put ``@idempotent`` first (outermost) so it sees the final response, status and headers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

from flask import Response, current_app, g, request
from sqlalchemy import delete, text, update

from core.db import apply_tenant_setting
from core.errors import Conflict, Unprocessable
from core.extensions import db
from core.models import IdempotencyRecord

log = logging.getLogger("tenantry.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
STALE_CLAIM = timedelta(minutes=5)
_STORED_HEADERS = ("Location", "ETag", "Content-Type")

_CLAIM = text("""
    INSERT INTO idempotency_keys (key, endpoint, request_hash, created_at)
    VALUES (:key, :endpoint, :request_hash, now())
    ON CONFLICT (tenant_id, key, endpoint) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, created_at = now(), completed_at = NULL,
           response_status = NULL, response_body = NULL, response_headers = NULL
     WHERE idempotency_keys.created_at < :expired_before
        OR (idempotency_keys.completed_at IS NULL
            AND idempotency_keys.created_at < :stale_before)
    RETURNING key
""")
_EXISTING = text("""
    SELECT request_hash, response_status, response_body, response_headers
      FROM idempotency_keys WHERE key = :key AND endpoint = :endpoint
""")


def _request_hash() -> str:
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True,
                               separators=(",", ":")).encode()
    except ValueError:
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(33 <= ord(ch) <= 126 for ch in key)


def _claim(key: str, endpoint: str, request_hash: str):
    """Claim the key in a separate committed transaction; returns None if claimed, else the
    existing record's (hash, status, body, headers)."""
    now = datetime.now(UTC)
    retention = timedelta(hours=current_app.config["IDEMPOTENCY_RETENTION_HOURS"])
    with db.engine.connect() as connection:
        apply_tenant_setting(connection, g.tenant.id)
        claimed = connection.execute(_CLAIM, {
            "key": key, "endpoint": endpoint, "request_hash": request_hash,
            "expired_before": now - retention, "stale_before": now - STALE_CLAIM}).first()
        existing = None if claimed else connection.execute(
            _EXISTING, {"key": key, "endpoint": endpoint}).first()
        connection.commit()
    return existing


def _release(key: str, endpoint: str) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.key == key, IdempotencyRecord.endpoint == endpoint,
        IdempotencyRecord.completed_at.is_(None)))
    db.session.commit()


def _replay(status: int, body, headers: dict | None) -> Response:
    response = current_app.response_class(json.dumps(body), status=status,
                                          mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(view):
    """Honour ``Idempotency-Key`` on this view (see the module docstring)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code < 400:
                db.session.commit()
            return response
        if not _valid_key(key):
            raise Unprocessable("invalid Idempotency-Key", {"headers": {HEADER: [
                "1 to 255 visible ASCII characters"]}})
        endpoint = f"{request.method} {request.path}"[:200]
        request_hash = _request_hash()
        existing = _claim(key, endpoint, request_hash)
        if existing is not None:
            stored_hash, status, body, headers = existing
            if stored_hash != request_hash:
                raise Unprocessable(
                    "Idempotency-Key was already used with a different request body",
                    {"headers": {HEADER: ["reused with a different body"]}})
            if status is None:
                raise Conflict("a request with this Idempotency-Key is still being processed; "
                               "retry shortly")
            log.info("idempotent replay endpoint=%s status=%s", endpoint, status)
            return _replay(status, body, headers)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception:
            _release(key, endpoint)
            raise
        if not 200 <= response.status_code < 300:
            _release(key, endpoint)
            return response
        db.session.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.key == key, IdempotencyRecord.endpoint == endpoint).values(
            response_status=response.status_code, response_body=response.get_json(silent=True),
            response_headers={h: response.headers[h] for h in _STORED_HEADERS
                              if h in response.headers},
            completed_at=datetime.now(UTC)))
        db.session.commit()
        return response

    return wrapper


def purge_expired(connection, retention_hours: int) -> int:
    """Delete records older than the retention (run as the owner role: all tenants at once)."""
    result = connection.execute(text(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :h)"),
        {"h": retention_hours})
    return result.rowcount

