"""Running totals per shift, kept when a document is written, so the X and Z reports and
closing read one row (plus one per tax rate) whatever the number of receipts.

Each receipt, refund and cash movement adds itself to its shift's ``pos_shift_totals`` row (one
UPDATE of increments) and a receipt to ``pos_shift_tax_totals`` (a multi-row upsert, rates in
order, in the same statement as the UPDATE, which it follows), in the transaction that writes
it: a document and its totals are kept or lost together.
The UPDATE's row lock orders the writers of one shift, which a register has one of at a time;
it is taken before any stock row, as every POS writer does, so writers never deadlock. Closing
(``freeze``) sets ``closed``; from then on a trigger refuses any change of those rows.

``recomputed`` sums the documents themselves: the audit path (tests, ``tenantry ledger
verify``) that proves the running totals right.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text, update

from core.sdk import db
from plugins.pos.models import (
    CashMovement,
    Payment,
    Receipt,
    ReceiptLine,
    Refund,
    ShiftTaxTotal,
    ShiftTotals,
)

ZERO = Decimal("0")
AMOUNTS = ("sales_subtotal", "sales_discount_total", "sales_tax_total", "sales_total",
           "sales_change", "paid_cash", "paid_card", "refunds_cash", "refunds_card", "cash_in",
           "cash_out")
COUNTS = ("receipts", "refunds")


def start(tenant_id: uuid.UUID, shift_id: uuid.UUID) -> None:
    """The totals row of a shift being opened (all zero)."""
    db.session.add(ShiftTotals(tenant_id=tenant_id, shift_id=shift_id))


def _no_totals_row(shift_id: uuid.UUID) -> RuntimeError:
    # Every shift gets its row when it opens (or from the migration).
    return RuntimeError(f"shift {shift_id} has no totals row")


def _add(shift_id: uuid.UUID, **increments: Any) -> None:
    result = db.session.execute(
        update(ShiftTotals).where(ShiftTotals.shift_id == shift_id)
        .values({name: getattr(ShiftTotals, name) + value for name, value in increments.items()})
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _no_totals_row(shift_id)


# Fixed text, whatever the number of tax rates (they come as arrays): compiled once, not per
# sale as a statement built from the rates would be.
_ADD_RECEIPT = text("""
    WITH totals AS (
        UPDATE pos_shift_totals SET
            receipts = receipts + 1,
            sales_subtotal = sales_subtotal + :sales_subtotal,
            sales_discount_total = sales_discount_total + :sales_discount_total,
            sales_tax_total = sales_tax_total + :sales_tax_total,
            sales_total = sales_total + :sales_total,
            sales_change = sales_change + :sales_change,
            paid_cash = paid_cash + :paid_cash,
            paid_card = paid_card + :paid_card
        WHERE tenant_id = :tenant_id AND shift_id = :shift_id
        RETURNING shift_id)
    INSERT INTO pos_shift_tax_totals AS t (tenant_id, shift_id, tax_rate, net, tax)
    SELECT :tenant_id, totals.shift_id, r.tax_rate, r.net, r.tax
    FROM totals, unnest(CAST(:rates AS numeric[]), CAST(:nets AS numeric[]),
                        CAST(:taxes AS numeric[])) AS r (tax_rate, net, tax)
    ORDER BY r.tax_rate
    ON CONFLICT (tenant_id, shift_id, tax_rate)
        DO UPDATE SET net = t.net + excluded.net, tax = t.tax + excluded.tax
    RETURNING t.tax_rate
""")


def add_receipt(tenant_id: uuid.UUID, receipt: Receipt) -> None:
    """The receipt's increments and its tax rates' upsert in one statement: the UPDATE in a
    ``WITH`` (it runs first and takes the shift's row lock), the upsert of the rates for the
    row it returned — none when the shift has no totals row, which is refused."""
    paid = defaultdict(Decimal)
    for payment in receipt.payments:
        paid[payment.method] += payment.amount
    rates: dict[Decimal, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for line in receipt.lines:
        rates[line.tax_rate][0] += line.total - line.tax
        rates[line.tax_rate][1] += line.tax
    upserted = db.session.execute(_ADD_RECEIPT, {
        "tenant_id": tenant_id, "shift_id": receipt.shift_id,
        "sales_subtotal": receipt.subtotal, "sales_discount_total": receipt.discount_total,
        "sales_tax_total": receipt.tax_total, "sales_total": receipt.total,
        "sales_change": receipt.change, "paid_cash": paid["cash"], "paid_card": paid["card"],
        "rates": list(rates), "nets": [net for net, _ in rates.values()],
        "taxes": [tax for _, tax in rates.values()]}).all()
    if not upserted:
        raise _no_totals_row(receipt.shift_id)


def add_refund(refund: Refund) -> None:
    _add(refund.shift_id, refunds=1, **{f"refunds_{refund.method}": refund.total})


def add_cash_movement(movement: CashMovement) -> None:
    _add(movement.shift_id, **{f"cash_{movement.kind}": movement.amount})


def freeze(shift_id: uuid.UUID) -> None:
    db.session.execute(update(ShiftTotals).where(ShiftTotals.shift_id == shift_id)
                       .values(closed=True).execution_options(synchronize_session=False))


def totals_of(shift_id: uuid.UUID) -> dict[str, Any]:
    """The running totals: counts, amounts and ``taxes`` (one dict per rate, by rate)."""
    row = db.session.execute(select(ShiftTotals).where(ShiftTotals.shift_id == shift_id)
                             .execution_options(populate_existing=True)).scalar_one()
    taxes = db.session.execute(select(ShiftTaxTotal).where(ShiftTaxTotal.shift_id == shift_id)
                               .order_by(ShiftTaxTotal.tax_rate)
                               .execution_options(populate_existing=True)).scalars()
    return {**{name: getattr(row, name) for name in (*COUNTS, *AMOUNTS)},
            "taxes": [{"tax_rate": t.tax_rate, "net": t.net, "tax": t.tax} for t in taxes]}


def recomputed(shift_id: uuid.UUID) -> dict[str, Any]:
    """The same totals summed from the shift's documents (O(receipts): for audits only)."""
    def scalar_sum(column, *where):
        return func.coalesce(func.sum(column).filter(*where), 0) if where else \
            func.coalesce(func.sum(column), 0)

    sales = db.session.execute(
        select(func.count(Receipt.id), scalar_sum(Receipt.subtotal),
               scalar_sum(Receipt.discount_total), scalar_sum(Receipt.tax_total),
               scalar_sum(Receipt.total), scalar_sum(Receipt.change))
        .where(Receipt.shift_id == shift_id)).one()
    paid = db.session.execute(
        select(scalar_sum(Payment.amount, Payment.method == "cash"),
               scalar_sum(Payment.amount, Payment.method == "card"))
        .join(Receipt, (Receipt.tenant_id == Payment.tenant_id)
              & (Receipt.id == Payment.receipt_id))
        .where(Receipt.shift_id == shift_id)).one()
    refunds = db.session.execute(
        select(func.count(Refund.id), scalar_sum(Refund.total, Refund.method == "cash"),
               scalar_sum(Refund.total, Refund.method == "card"))
        .where(Refund.shift_id == shift_id)).one()
    cash = db.session.execute(
        select(scalar_sum(CashMovement.amount, CashMovement.kind == "in"),
               scalar_sum(CashMovement.amount, CashMovement.kind == "out"))
        .where(CashMovement.shift_id == shift_id)).one()
    taxes = db.session.execute(
        select(ReceiptLine.tax_rate, func.sum(ReceiptLine.total - ReceiptLine.tax),
               func.sum(ReceiptLine.tax))
        .join(Receipt, (Receipt.tenant_id == ReceiptLine.tenant_id)
              & (Receipt.id == ReceiptLine.receipt_id))
        .where(Receipt.shift_id == shift_id)
        .group_by(ReceiptLine.tax_rate).order_by(ReceiptLine.tax_rate)).all()
    values = (*sales, *paid, *refunds, *cash)
    names = ("receipts", "sales_subtotal", "sales_discount_total", "sales_tax_total",
             "sales_total", "sales_change", "paid_cash", "paid_card", "refunds", "refunds_cash",
             "refunds_card", "cash_in", "cash_out")
    return {**{name: value if name in COUNTS else Decimal(value)
               for name, value in zip(names, values, strict=True)},
            "taxes": [{"tax_rate": rate, "net": net, "tax": tax} for rate, net, tax in taxes]}
