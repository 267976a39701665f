"""Fiscal registration: which provider a tenant uses, in which mode, and the outbox of
documents to register.

Every shift opening/closing, receipt and refund gets a ``pos_fiscal_records`` row in the same
transaction as the document (the outbox; none when the tenant's ``fiscal_mode`` is ``off``).
An outside provider is called only after that transaction commits — right after, in the same
request (``core.sdk.after_request_commit``), and by the worker (``tenantry pos retry-fiscal
--loop``) — one short transaction per record. So a provider is never told of a sale that was
then rolled back, and a device outage never loses a sale: the record stays ``pending`` with
the error and is tried again later and later (backoff: 5 s doubling to 10 min). On a
register, a pending record holds back the later ones (devices number documents in order).
The document's id is the provider's idempotency key: a record sent twice (a worker died
between the provider's answer and its commit) is registered once. A document is "fiscally
complete" only with the provider's number (``status = registered``). A provider that writes
only to this database (``transactional = True``, the ``mock``) is called inside the
document's transaction instead, in a savepoint: both commit together, and the sale's answer
carries the fiscal number.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import exists, func, or_, select, tuple_
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from core.sdk import (
    Unprocessable,
    after_request_commit,
    app_state,
    audit_changes,
    db,
    record_audit,
)
from plugins.pos.hookspecs import FiscalResult
from plugins.pos.models import FiscalRecord, PosSettings, Register

log = logging.getLogger("tenantry.pos.fiscal")

DEFAULT_PROVIDER = "mock"
DEFAULT_MODE = "live"
BACKOFF_FIRST_SECONDS, BACKOFF_MAX_SECONDS = 5, 600
_WOKEN = "pos_fiscal_woken_registers"  # per request: registers whose records go out now
_METHODS = {"shift_open": "open_shift", "shift_close": "close_shift",
            "receipt": "register_receipt", "refund": "register_refund"}


def money_text(value: Decimal | None) -> str | None:
    """A money value as fiscal payloads carry it (exact text, never a float)."""
    return None if value is None else str(value)


def providers() -> dict[str, Any]:
    """Name -> provider, from every plugin implementing the POS providers hook."""
    found: dict[str, Any] = {}
    for offered in app_state().registry.hook.tenantry_pos_cash_register_providers():
        for provider in offered or ():
            found.setdefault(provider.name, provider)
    return found


def settings_row(tenant_id: uuid.UUID) -> PosSettings | None:
    return db.session.execute(
        select(PosSettings).where(PosSettings.tenant_id == tenant_id)).scalar_one_or_none()


def provider_name(tenant_id: uuid.UUID) -> str:
    """The tenant's row, else the deployment's CASH_REGISTER_PROVIDER, else ``mock``."""
    return _provider_of(settings_row(tenant_id))


def _provider_of(row: PosSettings | None) -> str:
    if row is not None and row.cash_register_provider:
        return row.cash_register_provider
    return current_app.config.get("CASH_REGISTER_PROVIDER") or DEFAULT_PROVIDER


def set_provider(tenant_id: uuid.UUID, name: str | None, actor: str,
                 mode: str | None = None) -> PosSettings:
    """The tenant's provider (None: the deployment's) and, when given, its fiscal mode."""
    if name is not None and name not in providers():
        raise Unprocessable("unknown cash register provider", {"cash_register_provider": [
            f"one of: {', '.join(sorted(providers()))}"]})
    row = settings_row(tenant_id)
    if row is None:
        row = PosSettings(tenant_id=tenant_id, fiscal_mode=DEFAULT_MODE)
        db.session.add(row)
    before = {"cash_register_provider": row.cash_register_provider,
              "fiscal_mode": row.fiscal_mode}
    row.cash_register_provider, row.updated_by = name, actor
    if mode is not None:
        row.fiscal_mode = mode
    row.updated_at = datetime.now(UTC)
    db.session.flush()
    old, new = audit_changes(before, {"cash_register_provider": row.cash_register_provider,
                                      "fiscal_mode": row.fiscal_mode})
    if new:
        record_audit(tenant_id, "pos.settings_changed", target_type="pos_settings",
                     before=old, after=new)
    return row


def _register_dict(register: Register) -> dict[str, Any]:
    return {"id": str(register.id), "code": register.code, "name": register.name}


def _attempt(tenant_id: uuid.UUID, record: FiscalRecord, name: str,
             register: Register | None = None) -> bool:
    """Ask the provider to register one record; True when it did. On failure the record stays
    pending, with the error and the time of its next attempt (backoff). Nothing is written
    before the provider answers (the record may not even be in the session yet: ``fiscalize``
    adds a new one only once it knows how it ended); the caller flushes."""
    register = register or db.session.get(Register, (tenant_id, record.register_id))
    provider = providers().get(name)
    try:
        if provider is None:
            raise LookupError(f"cash register provider '{name}' is not installed")
        with db.session.begin_nested():
            result: FiscalResult = getattr(provider, _METHODS[record.document_type])(
                tenant_id=tenant_id, register=_register_dict(register),
                document={**record.payload, "fiscal_mode": record.mode})
    except Exception as exc:  # noqa: BLE001 - any provider failure means "not registered yet"
        record.attempts += 1
        record.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        record.next_attempt_at = datetime.now(UTC) + backoff(record.attempts)
        log.warning("fiscal registration failed: provider=%s document=%s/%s attempt=%s "
                    "error=%s", name, record.document_type, record.document_id,
                    record.attempts, record.last_error)
        return False
    record.attempts += 1
    record.status, record.provider = "registered", name
    record.fiscal_number, record.last_error = result.fiscal_number, None
    record.registered_at = datetime.now(UTC)
    return True


def backoff(attempts: int) -> timedelta:
    """How long a record waits after its n-th failed attempt: 5 s, 10 s, 20 s ... 10 min."""
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1),
                                 BACKOFF_MAX_SECONDS))


def _sendable(blocked: set[uuid.UUID], due_only: bool, woken: frozenset[uuid.UUID]):
    """The pending records ``_send`` may take now, oldest first: a register's earliest pending
    one (devices number in order), not of a ``blocked`` register, and with ``due_only`` past its
    backoff or of a ``woken`` register (one that just made a new document: the till is
    selling, so its device is tried again now)."""
    earlier = aliased(FiscalRecord)
    statement = (select(FiscalRecord)
                 .where(FiscalRecord.status == "pending",
                        ~exists().where(earlier.tenant_id == FiscalRecord.tenant_id,
                                        earlier.register_id == FiscalRecord.register_id,
                                        earlier.status == "pending",
                                        tuple_(earlier.created_at, earlier.id)
                                        < tuple_(FiscalRecord.created_at, FiscalRecord.id)))
                 .order_by(FiscalRecord.created_at, FiscalRecord.id))
    if blocked:
        statement = statement.where(FiscalRecord.register_id.not_in(blocked))
    if due_only:
        due = FiscalRecord.next_attempt_at <= func.now()
        statement = statement.where(
            or_(due, FiscalRecord.register_id.in_(woken)) if woken else due)
    return statement


def _next_record(blocked: set[uuid.UUID], due_only: bool,
                 woken: frozenset[uuid.UUID]) -> FiscalRecord | None:
    """The oldest sendable record, locked; another worker skips it (SKIP LOCKED) and takes
    the next."""
    return db.session.execute(_sendable(blocked, due_only, woken).limit(1).with_for_update(
        skip_locked=True, of=FiscalRecord)).scalar_one_or_none()


def _send(tenant_id: uuid.UUID, name: str, *, due_only: bool, woken: frozenset[uuid.UUID],
          after_each: Callable[[], None]) -> int:
    registered = 0
    blocked: set[uuid.UUID] = set()
    while (record := _next_record(blocked, due_only, woken)) is not None:
        if _attempt(tenant_id, record, name):
            registered += 1
        else:
            blocked.add(record.register_id)  # later documents of this register wait for it
        db.session.flush()
        after_each()
    return registered


def deliver(tenant_id: uuid.UUID, *, due_only: bool = True,
            woken: frozenset[uuid.UUID] = frozenset()) -> tuple[int, int]:
    """Send the tenant's pending records to its provider, oldest first, each in a transaction
    of its own (committed here: an answer the provider gave is never lost to a later
    failure); returns (registered, still pending). ``due_only``: leave records waiting for
    their backoff (the request path and the worker loop); False tries every one now (an
    operator's ``retry-fiscal``).

    Never call it inside a document's transaction (``schedule_delivery`` runs it after the
    commit). A record is locked while its provider call runs, so two workers never send it at
    once; if the process dies after the provider answered and before the commit, the record is
    sent again with the same document id, which the provider protocol treats as the same
    document (it answers its number again): registered once.
    """
    name = provider_name(tenant_id)
    db.session.commit()  # the look-up above: end its transaction before the first record
    registered = _send(tenant_id, name, due_only=due_only, woken=woken,
                       after_each=db.session.commit)
    left = db.session.execute(select(func.count()).select_from(FiscalRecord).where(
        FiscalRecord.status == "pending")).scalar_one()
    db.session.commit()
    return registered, left


def _deliver_after_commit(tenant_id: uuid.UUID, woken: set[uuid.UUID], response):
    deliver(tenant_id, woken=frozenset(woken))
    return response


def schedule_delivery(tenant_id: uuid.UUID, register_id: uuid.UUID) -> None:
    """Deliver the tenant's due records (and ``register_id``'s) once this request has
    committed (once per request); outside a request (commands) they wait for the worker."""
    if not has_request_context():
        return
    woken = g.get(_WOKEN)
    if woken is None:
        woken = g.setdefault(_WOKEN, set())
        after_request_commit(functools.partial(_deliver_after_commit, tenant_id, woken))
    woken.add(register_id)


def _transactional(provider: Any) -> bool:
    """A provider that writes only to this database, in the caller's transaction (the
    ``mock``): registering inside the document's transaction is then as safe as an outbox,
    since both commit or roll back together, and the answer carries the fiscal number."""
    return bool(getattr(provider, "transactional", False))


_UNREAD: Any = object()

def backlog(tenant_id: Any, register_id: Any):
    """Whether ``_send`` could have anything to take before a new record of ``register_id``
    (values, or columns of an enclosing query: sales and refunds ask it with their till,
    shifts.open_till): a pending record that is due or of that register. A superset of
    ``_sendable``'s answer (it skips the earliest-per-register rule), so a "no" is always right
    and a rare "yes" only takes the careful path."""
    return exists().where(FiscalRecord.tenant_id == tenant_id, FiscalRecord.status == "pending",
                          or_(FiscalRecord.next_attempt_at <= func.now(),
                              FiscalRecord.register_id == register_id))


def fiscalize(tenant_id: uuid.UUID, register: Register, document_type: str,
              document_id: uuid.UUID, payload: dict[str, Any],
              settings: PosSettings | None = _UNREAD,
              waiting: bool = _UNREAD) -> FiscalRecord | None:
    """Write the document's outbox record in its transaction (none when the tenant's fiscal
    mode is off); an outside provider hears of it after the commit, a transactional one (the
    mock) at once, in a savepoint. ``settings`` (the tenant's row, None: it has none) and
    ``waiting`` (``backlog``'s answer) as the caller read them save their reads: sales and
    refunds get both with their till (shifts.open_till), in the same transaction a moment
    earlier."""
    row = settings_row(tenant_id) if settings is _UNREAD else settings
    mode = row.fiscal_mode if row is not None else DEFAULT_MODE
    if mode == "off":
        return None
    now = datetime.now(UTC)
    record = FiscalRecord(tenant_id=tenant_id, id=uuid.uuid4(), register_id=register.id,
                          document_type=document_type, document_id=document_id,
                          payload=payload, status="pending", attempts=0, mode=mode,
                          created_at=now, next_attempt_at=now)
    name = _provider_of(row)
    woken = frozenset({register.id})
    if not _transactional(providers().get(name)):
        db.session.add(record)
        db.session.flush()
        schedule_delivery(tenant_id, register.id)
    elif (db.session.execute(select(backlog(tenant_id, register.id))).scalar()
          if waiting is _UNREAD else waiting):
        # Older records go first (devices number in order): each in a savepoint (_attempt),
        # in this transaction, so the device's journal and the documents are kept together.
        db.session.add(record)
        db.session.flush()
        _send(tenant_id, name, due_only=True, woken=woken, after_each=lambda: None)
    else:
        # Nothing waits before it (the usual case): ask the provider, then write the record
        # as it ended, in one INSERT.
        _attempt(tenant_id, record, name, register)
        db.session.add(record)
        db.session.flush()
    return record


def show_on(document: Any, record: FiscalRecord | None) -> None:
    """Make ``document.fiscal`` answer ``record`` (what ``fiscalize`` returned: this
    session's object, as registration left it) without reading it back."""
    set_committed_value(document, "fiscal", record)
