"""Fiscal registration: which provider a tenant uses, and the queue of documents to register.

Every shift opening/closing, receipt and refund gets a ``pos_fiscal_records`` row in the same
transaction as the document, then the provider is asked to register it (in a savepoint). If the
provider fails, the document is kept and its record stays ``pending`` with the error: a device
outage never loses a sale. Pending records are retried, oldest first, before every new document
of the tenant and by ``tenantry pos retry-fiscal``; on a register, a failure stops the later
documents of that register from going ahead of it (devices number documents in order).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from core.sdk import Unprocessable, app_state, db
from plugins.pos.hookspecs import FiscalResult
from plugins.pos.models import FiscalRecord, PosSettings, Register

log = logging.getLogger("tenantry.pos.fiscal")

DEFAULT_PROVIDER = "mock"
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
    row = settings_row(tenant_id)
    if row is not None and row.cash_register_provider:
        return row.cash_register_provider
    return current_app.config.get("CASH_REGISTER_PROVIDER") or DEFAULT_PROVIDER


def set_provider(tenant_id: uuid.UUID, name: str | None, actor: str) -> PosSettings:
    if name is not None and name not in providers():
        raise Unprocessable("unknown cash register provider", {"cash_register_provider": [
            f"one of: {', '.join(sorted(providers()))}"]})
    row = settings_row(tenant_id)
    if row is None:
        row = PosSettings(tenant_id=tenant_id)
        db.session.add(row)
    row.cash_register_provider, row.updated_by = name, actor
    row.updated_at = datetime.now(UTC)
    db.session.flush()
    return row


def _register_dict(register: Register) -> dict[str, Any]:
    return {"id": str(register.id), "code": register.code, "name": register.name}


def _attempt(tenant_id: uuid.UUID, record: FiscalRecord, name: str) -> bool:
    """Ask the provider to register one record; True when it did."""
    register = db.session.get(Register, (tenant_id, record.register_id))
    provider = providers().get(name)
    record.attempts += 1
    try:
        if provider is None:
            raise LookupError(f"cash register provider '{name}' is not installed")
        with db.session.begin_nested():
            result: FiscalResult = getattr(provider, _METHODS[record.document_type])(
                tenant_id=tenant_id, register=_register_dict(register), document=record.payload)
    except Exception as exc:  # noqa: BLE001 - any provider failure means "not registered yet"
        record.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        log.warning("fiscal registration failed: provider=%s document=%s/%s error=%s", name,
                    record.document_type, record.document_id, record.last_error)
        db.session.flush()
        return False
    record.status, record.provider = "registered", name
    record.fiscal_number, record.last_error = result.fiscal_number, None
    record.registered_at = datetime.now(UTC)
    db.session.flush()
    return True


def process_pending(tenant_id: uuid.UUID) -> tuple[int, int]:
    """Try every pending record of the tenant, oldest first. Returns (registered, left)."""
    records = db.session.execute(
        select(FiscalRecord).where(FiscalRecord.status == "pending")
        .order_by(FiscalRecord.created_at, FiscalRecord.id)
        # Another worker retrying the same tenant skips what this one holds.
        .with_for_update(skip_locked=True)).scalars().all()
    if not records:
        return 0, 0
    name = provider_name(tenant_id)
    blocked: set[uuid.UUID] = set()
    registered = 0
    for record in records:
        if record.register_id in blocked:
            continue
        if _attempt(tenant_id, record, name):
            registered += 1
        else:
            blocked.add(record.register_id)
    return registered, len(records) - registered


def fiscalize(tenant_id: uuid.UUID, register: Register, document_type: str,
              document_id: uuid.UUID, payload: dict[str, Any]) -> FiscalRecord:
    """Queue a document for registration and register what is pending, this one included."""
    record = FiscalRecord(tenant_id=tenant_id, id=uuid.uuid4(), register_id=register.id,
                          document_type=document_type, document_id=document_id,
                          payload=payload, status="pending", attempts=0,
                          created_at=datetime.now(UTC))
    db.session.add(record)
    db.session.flush()
    process_pending(tenant_id)
    return record
