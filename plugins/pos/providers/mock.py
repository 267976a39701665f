"""The ``mock`` cash-register provider: a fiscal journal kept in the database.

It behaves as a device does: every document gets the next fiscal number of its register,
without gaps (the counter row is locked by ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``,
so concurrent receipts on one register queue there), and registering the same document again
answers the number it already has (retries are safe: the document id is the idempotency key).
Documents in fiscal mode ``test`` get numbers marked ``TEST-``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from core.sdk import db
from plugins.pos.hookspecs import FiscalResult
from plugins.pos.models import MockFiscalCounter, MockFiscalDocument


class MockProvider:
    name = "mock"
    # Its journal is in this database, written in the caller's transaction: fiscal.py calls it
    # inside the document's transaction (no outbox round trip needed).
    transactional = True

    def _register(self, kind: str, tenant_id: uuid.UUID, register: dict[str, Any],
                  document: dict[str, Any]) -> FiscalResult:
        document_id = uuid.UUID(str(document["id"]))
        existing = db.session.execute(select(MockFiscalDocument).where(
            MockFiscalDocument.kind == kind,
            MockFiscalDocument.document_id == document_id)).scalar_one_or_none()
        if existing is None:
            register_id = uuid.UUID(str(register["id"]))
            number = db.session.execute(
                insert(MockFiscalCounter)
                .values(tenant_id=tenant_id, register_id=register_id, last_number=1)
                .on_conflict_do_update(
                    index_elements=["tenant_id", "register_id"],
                    set_={"last_number": MockFiscalCounter.last_number + 1})
                .returning(MockFiscalCounter.last_number)).scalar_one()
            total = document.get("total")
            existing = MockFiscalDocument(
                tenant_id=tenant_id, id=uuid.uuid4(), register_id=register_id,
                fiscal_number=number, kind=kind, document_id=document_id,
                total=Decimal(total) if total is not None else None, payload=document)
            db.session.add(existing)
            db.session.flush()
        # A document of a tenant in fiscal_mode "test" is marked as the test service would.
        prefix = "TEST-" if document.get("fiscal_mode") == "test" else ""
        return FiscalResult(f"{prefix}{register['code']}-{existing.fiscal_number:06d}",
                            {"device": "mock", "sequence": existing.fiscal_number})

    def open_shift(self, *, tenant_id, register, document):
        return self._register("shift_open", tenant_id, register, document)

    def close_shift(self, *, tenant_id, register, document):
        return self._register("shift_close", tenant_id, register, document)

    def register_receipt(self, *, tenant_id, register, document):
        return self._register("receipt", tenant_id, register, document)

    def register_refund(self, *, tenant_id, register, document):
        return self._register("refund", tenant_id, register, document)
