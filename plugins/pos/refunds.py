"""Refunds: goods and money given back against a receipt, in its register's open shift, line
by line or everything left; the goods go back to stock (``return`` moves)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, text

from core.sdk import Conflict, db, emit_webhook_event, get_or_404
from plugins.pos import fiscal, receipts, shift_totals, shifts
from plugins.pos.fiscal import money_text
from plugins.pos.models import Refund, RefundLine
from plugins.pos.stock_moves import post_stock_moves
from plugins.sales.api import lines_to_give_back

REFUND_REFERENCE = "pos_refund"
ZERO = Decimal("0")
# Refunds of one receipt are counted one at a time (an advisory lock under the module prefix).
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def refunded_so_far(receipt_id: uuid.UUID) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
    rows = db.session.execute(
        select(RefundLine.receipt_line_id, func.sum(RefundLine.quantity),
               func.sum(RefundLine.amount))
        .join(Refund, (Refund.tenant_id == RefundLine.tenant_id)
              & (Refund.id == RefundLine.refund_id))
        .where(Refund.receipt_id == receipt_id).group_by(RefundLine.receipt_line_id)).all()
    return {line_id: (quantity, amount) for line_id, quantity, amount in rows}


def create_refund(tenant_id: uuid.UUID, receipt_id: uuid.UUID, data: dict[str, Any],
                  actor: str) -> Refund:
    """Give back goods and money against a receipt, in its register's open shift."""
    receipt = receipts.get_receipt(receipt_id)
    till = shifts.open_till(receipt.register_id, "the receipt's register has no open shift; "
                                                 "open one to refund")
    register, shift = till.register, till.shift
    # Refunds of one receipt are counted one at a time. An advisory lock, because receipts
    # are append-only: the app role may not lock their rows (that needs UPDATE).
    db.session.execute(_LOCK, {"key": f"pos.refunds:{receipt.id}"})
    already = defaultdict(lambda: (ZERO, ZERO), refunded_so_far(receipt.id))
    requested = data.get("lines") or [
        {"receipt_line_id": line.id, "quantity": line.quantity - already[line.id][0]}
        for line in receipt.lines if line.quantity > already[line.id][0]]
    if not requested:
        raise Conflict("everything on this receipt was refunded already")
    given = lines_to_give_back(receipt.lines, requested, already, line_field="receipt_line_id",
                               document="receipt", verb="refund")
    refund = Refund(tenant_id=tenant_id, id=uuid.uuid4(), receipt_id=receipt.id,
                    register_id=register.id, shift_id=shift.id, method=data["method"],
                    reason=data.get("reason", ""), created_by=actor,
                    created_at=datetime.now(UTC))
    refund.lines = [
        RefundLine(tenant_id=tenant_id, id=uuid.uuid4(), refund_id=refund.id, line_no=number,
                   receipt_line_id=line.id, product_id=line.product_id, quantity=quantity,
                   amount=amount)
        for number, (line, quantity, amount) in enumerate(given, start=1)]
    refund.total = sum((line.amount for line in refund.lines), ZERO)
    db.session.add(refund)
    db.session.flush()
    shift_totals.add_refund(refund)
    post_stock_moves(tenant_id, [
        {"product_id": line.product_id, "quantity": line.quantity, "reason": "return",
         "location_id": register.location_id, "reference_type": REFUND_REFERENCE,
         "reference_id": refund.id, "note": f"refund of receipt {receipt.id}"}
        for line in refund.lines], actor)
    record = fiscal.fiscalize(tenant_id, register, "refund", refund.id, {
        "id": str(refund.id), "receipt_id": str(receipt.id), "method": refund.method,
        "total": money_text(refund.total), "created_at": refund.created_at.isoformat(),
        "lines": [{"receipt_line_id": str(line.receipt_line_id),
                   "product_id": str(line.product_id), "quantity": str(line.quantity),
                   "amount": money_text(line.amount)} for line in refund.lines]},
        till.settings, till.fiscal_waiting)
    fiscal.show_on(refund, record)
    emit_webhook_event(tenant_id, "pos.receipt.refunded", {
        "id": refund.id, "receipt_id": receipt.id, "register_id": register.id,
        "method": refund.method, "reason": refund.reason, "total": refund.total,
        "created_at": refund.created_at,
        "lines": [{"receipt_line_id": line.receipt_line_id, "product_id": line.product_id,
                   "quantity": line.quantity, "amount": line.amount} for line in refund.lines]})
    return refund


def get_refund(refund_id: uuid.UUID) -> Refund:
    return get_or_404(Refund, refund_id, "refund")


def list_refunds(receipt_id: uuid.UUID) -> Select:
    receipts.get_receipt(receipt_id)
    return select(Refund).where(Refund.receipt_id == receipt_id).order_by(Refund.created_at,
                                                                          Refund.id)
