"""The ``mock`` cash-register provider (plugins/pos/providers/mock.py), called as fiscal.py
calls it: a document gets the next number of its register once, a second registration of the
same document answers the same number without stepping the counter, the kinds are numbered
apart, and the test mode marks its numbers."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from core.extensions import db
from core.rls import tenant_context
from plugins.pos.models import MockFiscalCounter, MockFiscalDocument
from plugins.pos.providers.mock import MockProvider


def test_each_document_is_numbered_once_and_in_order(app, pos_store, pos_register, pos_shift):
    provider, register = MockProvider(), {"id": pos_register["id"], "code": "R1"}
    sale, refund = str(uuid.uuid4()), str(uuid.uuid4())
    with app.app_context(), tenant_context(pos_store.id):
        try:
            def register_receipt(document_id, **extra):
                return provider.register_receipt(
                    tenant_id=pos_store.id, register=register,
                    document={"id": document_id, "total": "5.00", **extra})

            first = register_receipt(sale)
            again = register_receipt(sale)
            refunded = provider.register_refund(tenant_id=pos_store.id, register=register,
                                                document={"id": refund, "total": None})
            rehearsed = register_receipt(str(uuid.uuid4()), fiscal_mode="test")
            # The shift's opening was number 1.
            assert first.fiscal_number == again.fiscal_number == "R1-000002"
            assert first.data == {"device": "mock", "sequence": 2}
            assert refunded.fiscal_number == "R1-000003"
            assert rehearsed.fiscal_number == "TEST-R1-000004"
            register_id = uuid.UUID(pos_register["id"])
            assert db.session.execute(select(MockFiscalCounter.last_number).where(
                MockFiscalCounter.register_id == register_id)).scalar_one() == 4
            journal = db.session.execute(
                select(MockFiscalDocument.kind, func.count(), func.min(MockFiscalDocument.total))
                .where(MockFiscalDocument.document_id.in_([uuid.UUID(sale), uuid.UUID(refund)]))
                .group_by(MockFiscalDocument.kind).order_by(MockFiscalDocument.kind)).all()
            assert [(kind, count, str(total)) for kind, count, total in journal] == [
                ("receipt", 1, "5.00"), ("refund", 1, "None")]
        finally:
            db.session.rollback()
            db.session.remove()
