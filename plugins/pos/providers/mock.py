"""The ``mock`` cash-register provider: a fiscal journal kept in the database.

It behaves as a device does: every document gets the next fiscal number of its register,
without gaps (the counter row is locked by ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``,
so concurrent receipts on one register queue there), and registering the same document again
answers the number it already has (retries are safe: the document id is the idempotency key).
Documents in fiscal mode ``test`` get numbers marked ``TEST-``.

One statement does it all (``_REGISTER``): the look-up of the document, and only when it is
not there, the counter's step and the journal's row. Two registrations of one document racing
each other both step the counter; the second's row then breaks the unique key on (kind,
document), its savepoint (fiscal.py) rolls the step back, and its retry answers the first's
number.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from core.sdk import db
from plugins.pos.hookspecs import FiscalResult

_REGISTER = text("""
    WITH known AS (
        SELECT fiscal_number FROM pos_mock_fiscal_documents
        WHERE tenant_id = :tenant_id AND kind = :kind AND document_id = :document_id),
    counter AS (
        INSERT INTO pos_mock_fiscal_counters AS c (tenant_id, register_id, last_number)
        SELECT :tenant_id, :register_id, 1 WHERE NOT EXISTS (SELECT FROM known)
        ON CONFLICT (tenant_id, register_id) DO UPDATE SET last_number = c.last_number + 1
        RETURNING last_number),
    added AS (
        INSERT INTO pos_mock_fiscal_documents
            (tenant_id, id, register_id, fiscal_number, kind, document_id, total, payload,
             created_at)
        SELECT :tenant_id, :id, :register_id, last_number, :kind, :document_id,
               CAST(:total AS numeric), :payload, CAST(:created_at AS timestamptz)
        FROM counter
        RETURNING fiscal_number)
    SELECT fiscal_number FROM known UNION ALL SELECT fiscal_number FROM added
""").bindparams(bindparam("payload", type_=JSONB))


class MockProvider:
    name = "mock"
    # Its journal is in this database, written in the caller's transaction: fiscal.py calls it
    # inside the document's transaction (no outbox round trip needed).
    transactional = True

    def _register(self, kind: str, tenant_id: uuid.UUID, register: dict[str, Any],
                  document: dict[str, Any]) -> FiscalResult:
        total = document.get("total")
        number = db.session.execute(_REGISTER, {
            "tenant_id": tenant_id, "id": uuid.uuid4(), "register_id": uuid.UUID(
                str(register["id"])), "kind": kind, "document_id": uuid.UUID(str(document["id"])),
            "total": Decimal(total) if total is not None else None, "payload": document,
            "created_at": datetime.now(UTC)}).scalar_one()
        # A document of a tenant in fiscal_mode "test" is marked as the test service would.
        prefix = "TEST-" if document.get("fiscal_mode") == "test" else ""
        return FiscalResult(f"{prefix}{register['code']}-{number:06d}",
                            {"device": "mock", "sequence": number})

    def open_shift(self, *, tenant_id, register, document):
        return self._register("shift_open", tenant_id, register, document)

    def close_shift(self, *, tenant_id, register, document):
        return self._register("shift_close", tenant_id, register, document)

    def register_receipt(self, *, tenant_id, register, document):
        return self._register("receipt", tenant_id, register, document)

    def register_refund(self, *, tenant_id, register, document):
        return self._register("refund", tenant_id, register, document)
