"""``Idempotency-Key`` for create endpoints (docs/architecture.md, "HTTP conventions"; IETF draft
"The Idempotency-Key HTTP Header Field").

Same key + same body → the stored response again, with ``Idempotent-Replayed: true``.
Same key + different body → 422. Same key while the first request still runs → 409 at once.
Keys are scoped per tenant, **caller** (the user of a JWT, or the API key) and endpoint
(method + path), and kept IDEMPOTENCY_RETENTION_HOURS: two callers of one tenant never see
each other's keys.

How it stays exactly-once with one database connection per request:
1. In the request's own transaction, a transaction-scoped advisory lock is taken on the key
   (``pg_try_advisory_xact_lock``, never waiting): if another transaction holds it, the same
   request is running now → 409. PostgreSQL releases the lock when that transaction ends, by
   commit, rollback, or a crashed worker's connection closing, so no key is ever left stuck.
2. Holding the lock, a stored response of the key is looked up (the previous holder committed
   before it let go, so it is visible) and replayed, or refused with 422 for another body.
3. Otherwise the view runs and does not commit (it flushes). A 2xx answer is stored in the same
   transaction, and the request pipeline's one final commit (core.pipeline) commits the work, the
   stored response and the usage count together. Nothing of a failed (non-2xx) answer is kept,
   so a retry runs again.

Advisory lock key space: Tenantry takes only single-``bigint`` advisory locks, each on
``hashtextextended('<module key>.<purpose>:<ids>', 0)``. This module owns the prefix
``core.idempotency:``; other code must use its own prefix (docs/architecture.md, "Tenancy and
isolation", advisory locks; docs/plugin-authoring.md), so two locks meet only by a 64-bit hash
collision.

Put ``@idempotent`` first (outermost) so it sees the final response, status and headers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Response, current_app, g, request
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from core.errors import Conflict, Unprocessable
from core.extensions import db
from core.models import IdempotencyRecord

log = logging.getLogger("tenantry.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LOCK_PREFIX = "core.idempotency:"
# Records kept from before keys were scoped to callers (migration c0a1f0000003) answer for
# every caller of their tenant until they expire, as they did when they were stored.
LEGACY_CALLER = "*"
_STORED_HEADERS = ("Location", "ETag", "Content-Type")

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))")
# The console's forms wait for the first request instead (bounded by LOCK_TIMEOUT_MS): a
# double-submitted form then shows the first answer, not a 409.
_WAIT_LOCK = text(
    "SELECT true FROM (SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))) AS held")
_STORED = text("""
    SELECT request_hash, response_status, response_body, response_headers
      FROM idempotency_keys
     WHERE tenant_id = :tenant_id AND caller IN (:caller, :legacy)
       AND key = :key AND endpoint = :endpoint
       AND created_at >= now() - make_interval(hours => :retention_hours)
     ORDER BY created_at DESC LIMIT 1
""")


def _request_hash() -> str:
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True,
                               separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


KEY_PATTERN = "^[!-~]{1,255}$"  # 1 to 255 visible ASCII characters
# The header as the OpenAPI document declares it: ``@blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)``
# on every view under ``@idempotent``.
IDEMPOTENCY_KEY_HEADER = [{
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    "description": "Retry-safe creation: the same key and body answer the stored response "
                   "again (1 to 255 visible ASCII characters)"}]


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(33 <= ord(ch) <= 126 for ch in key)


def lock_name(tenant_id, caller: str, endpoint: str, key: str) -> str:
    """The advisory lock's name; the endpoint's length keeps ``endpoint:key`` unambiguous."""
    return f"{LOCK_PREFIX}{tenant_id}:{caller}:{len(endpoint)}:{endpoint}:{key}"


def _replay(status: int, body, headers: dict | None) -> Response:
    headers = dict(headers or {})
    if isinstance(body, str) and not headers.get("Content-Type", "").startswith(
            "application/json"):
        response = current_app.response_class(body, status=status)  # a console page
    else:
        response = current_app.response_class(json.dumps(body), status=status,
                                              mimetype="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


_INSERT_RECORD = insert(IdempotencyRecord.__table__)
# Built once (the request path of every idempotent call); the answer's columns replace an
# expired row's.
_STORE = _INSERT_RECORD.on_conflict_do_update(
    index_elements=["tenant_id", "caller", "key", "endpoint"],
    set_={name: _INSERT_RECORD.excluded[name] for name in (
        "request_hash", "response_status", "response_body", "response_headers", "created_at")})


def _store(scope: dict, request_hash: str, response: Response) -> None:
    """Write the answer in the request's transaction. A row of the key still present is an
    expired one (the look-up ignored it, and nobody else can write the key while this
    transaction holds its lock): it is replaced."""
    values = {
        "request_hash": request_hash, "response_status": response.status_code,
        "response_body": (response.get_json(silent=True) if response.is_json
                          else response.get_data(as_text=True)),
        "response_headers": {h: response.headers[h] for h in _STORED_HEADERS
                             if h in response.headers},
        # From Python, not now(): Citus refuses non-immutable functions in DO UPDATE SET.
        "created_at": datetime.now(UTC)}
    db.session.execute(_STORE, {**scope, **values})


def run_once(key: str | None, answer: Callable[[], Response], *, wait: bool = False,
             field: str = HEADER) -> Response:
    """``answer()`` at most once per tenant, caller, endpoint and ``key`` (see the module
    docstring); ``key`` None runs it as it is. ``wait`` makes a second request with the key
    wait for the first (within LOCK_TIMEOUT_MS) and replay its answer instead of a 409: the
    console's forms. ``field`` names where the key came from, for the 422."""
    identity = g.get("identity")
    if key is None or identity is None or not identity.is_tenant:
        # No key; or no tenant credentials, which the view's own check refuses (401/403).
        return current_app.make_response(answer())
    if not _valid_key(key):
        raise Unprocessable("invalid Idempotency-Key", {"headers": {field: [
            "1 to 255 visible ASCII characters"]}})
    scope = {"tenant_id": g.tenant.id, "caller": identity.actor,
             "endpoint": f"{request.method} {request.path}"[:200], "key": key}
    request_hash = _request_hash()
    locked = db.session.execute(_WAIT_LOCK if wait else _TRY_LOCK,
                                {"name": lock_name(**scope)}).scalar_one()
    if not locked:
        raise Conflict("a request with this Idempotency-Key is still being processed; "
                       "retry shortly")
    stored = db.session.execute(_STORED, {
        **scope, "legacy": LEGACY_CALLER,
        "retention_hours": current_app.config["IDEMPOTENCY_RETENTION_HOURS"]}).first()
    if stored is not None:
        stored_hash, status, body, headers = stored
        if stored_hash != request_hash:
            raise Unprocessable(
                "Idempotency-Key was already used with a different request body",
                {"headers": {field: ["reused with a different body"]}})
        log.info("idempotent replay endpoint=%s status=%s", scope["endpoint"], status)
        return _replay(status, body, headers)
    response = current_app.make_response(answer())
    if not 200 <= response.status_code < 300:
        # A failed answer changes nothing (house rule) and uses no key up; the rollback
        # also lets the lock go at once.
        db.session.rollback()
        return response
    _store(scope, request_hash, response)
    return response


def idempotent(view):
    """Honour ``Idempotency-Key`` on this view (see the module docstring)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return run_once(request.headers.get(HEADER), lambda: view(*args, **kwargs))

    return wrapper


def purge_expired(connection, retention_hours: int) -> int:
    """Delete records older than the retention (run as the owner role: all tenants at once)."""
    result = connection.execute(text(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :h)"),
        {"h": retention_hours})
    return result.rowcount
