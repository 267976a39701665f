"""Receipts: a sale at a register during its open shift (409 without one).

A receipt is priced by the sales module's public arithmetic (``plugins.sales.api``), posts
``pos_sale`` stock moves through the stock module when it is enabled (``stock_moves.py``),
fires the sales module's ``tenantry_sales_sale_completed`` hook, and is registered with the
tenant's cash-register provider (``fiscal.py``). Only cash gives change. A till's own receipt
id makes a sale recorded once however often it is sent (``offline.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from core.sdk import Unprocessable, app_state, db, get_or_404, where_given
from plugins.pos import fiscal, offline, shift_totals, shifts
from plugins.pos.fiscal import money_text
from plugins.pos.models import Payment, Receipt, ReceiptLine
from plugins.pos.stock_moves import balances_below_zero, post_stock_moves
from plugins.sales.api import (
    LineInput,
    PricedDocument,
    discount_from,
    lines_to_sell,
    price,
)

RECEIPT_REFERENCE = "pos_receipt"
ZERO = Decimal("0")


def list_receipts(args: dict[str, Any]) -> Select:
    statement = where_given(select(Receipt), Receipt, args, "register_id", "shift_id")
    if "fiscal_status" in args:
        from plugins.pos.models import FiscalRecord

        pending = select(FiscalRecord.document_id).where(
            FiscalRecord.document_type == "receipt", FiscalRecord.status == "pending")
        statement = statement.where(Receipt.id.in_(pending) if args["fiscal_status"] ==
                                    "pending" else Receipt.id.not_in(pending))
    # When the sale happened: a sale synced late sits among its neighbours in time.
    return statement.order_by(Receipt.occurred_at.desc(), Receipt.id)


def get_receipt(receipt_id: uuid.UUID) -> Receipt:
    return get_or_404(Receipt, receipt_id, "receipt")


def _receipt_lines(tenant_id: uuid.UUID, receipt_id: uuid.UUID, lines: list[dict[str, Any]],
                   discount: dict | None) -> tuple[list[ReceiptLine], PricedDocument]:
    built = [ReceiptLine(tenant_id=tenant_id, id=uuid.uuid4(), receipt_id=receipt_id, **values)
             for values in lines_to_sell(lines, document="receipt")]
    document = price(
        [LineInput(line.quantity, line.unit_price, line.tax_rate,
                           discount_from(line.discount)) for line in built],
        discount_from(discount))
    for line, priced in zip(built, document.lines, strict=True):
        line.gross, line.line_discount = priced.gross, priced.line_discount
        line.order_discount, line.tax, line.total = priced.order_discount, priced.tax, priced.total
    return built, document


def _change(total: Decimal, payments: list[dict[str, Any]]) -> tuple[Decimal, Decimal]:
    """(paid, change); 422 when the payments do not cover the total or change is not cash."""
    paid = sum((p["amount"] for p in payments), ZERO)
    cash = sum((p["amount"] for p in payments if p["method"] == "cash"), ZERO)
    if paid < total:
        raise Unprocessable("the payments do not cover the total", {"payments": [
            f"paid {paid} of {total}"]})
    change = paid - total
    if change > cash:
        raise Unprocessable("only cash gives change", {"payments": [
            "card payments may not exceed what is due"]})
    return paid, change


def sale_payload(receipt: Receipt) -> dict[str, Any]:
    """The receipt as the ``tenantry_sales_sale_completed`` hook describes a sale."""
    return {
        "source": RECEIPT_REFERENCE, "id": receipt.id, "number": None, "customer_id": None,
        "register_id": receipt.register_id, "shift_id": receipt.shift_id,
        "subtotal": receipt.subtotal, "discount_total": receipt.discount_total,
        "tax_total": receipt.tax_total, "total": receipt.total,
        "completed_at": receipt.occurred_at,
        "lines": [{"product_id": line.product_id, "quantity": line.quantity,
                   "unit_price": line.unit_price, "tax": line.tax, "total": line.total}
                  for line in receipt.lines]}


def _fiscal_receipt(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": str(receipt.id), "shift_id": str(receipt.shift_id),
        "created_at": receipt.created_at.isoformat(),
        "occurred_at": receipt.occurred_at.isoformat(), "total": money_text(receipt.total),
        "tax_total": money_text(receipt.tax_total), "paid": money_text(receipt.paid),
        "change": money_text(receipt.change),
        "lines": [{"product_id": str(line.product_id), "description": line.description,
                   "quantity": str(line.quantity), "unit_price": money_text(line.unit_price),
                   "tax_rate": str(line.tax_rate), "tax": money_text(line.tax),
                   "total": money_text(line.total)} for line in receipt.lines],
        "payments": [{"method": p.method, "amount": money_text(p.amount)}
                     for p in receipt.payments]}


# The receipt, its payments and its lines in one statement (a flush sends three, and its unit
# of work was most of a sale's Python): fixed text, compiled once, the rows as arrays.
# PostgreSQL checks the lines' and payments' foreign keys at the end of the statement, when
# the receipt is there.
_INSERT_RECEIPT = text("""
    WITH receipt AS (
        INSERT INTO pos_receipts (tenant_id, id, register_id, shift_id, subtotal, discount_total,
                                  tax_total, total, paid, change, created_by, created_at,
                                  occurred_at, client_receipt_id, client_fingerprint,
                                  discount_kind, discount_value)
        VALUES (:tenant_id, :id, :register_id, :shift_id, :subtotal, :discount_total,
                :tax_total, :total, :paid, :change, :created_by, :created_at, :occurred_at,
                :client_receipt_id, :client_fingerprint, :discount_kind, :discount_value)),
    payments AS (
        INSERT INTO pos_payments (tenant_id, id, receipt_id, line_no, method, amount)
        SELECT :tenant_id, p.id, :id, p.line_no, p.method, p.amount
        FROM unnest(CAST(:payment_id AS uuid[]), CAST(:payment_line_no AS integer[]),
                    CAST(:payment_method AS text[]), CAST(:payment_amount AS numeric[]))
             AS p (id, line_no, method, amount))
    INSERT INTO pos_receipt_lines (tenant_id, id, receipt_id, line_no, product_id, description,
                                   quantity, unit_price, tax_rate, gross, line_discount,
                                   order_discount, tax, total, discount_kind, discount_value)
    SELECT :tenant_id, l.id, :id, l.line_no, l.product_id, l.description, l.quantity,
           l.unit_price, l.tax_rate, l.gross, l.line_discount, l.order_discount, l.tax, l.total,
           l.discount_kind, l.discount_value
    FROM unnest(CAST(:line_id AS uuid[]), CAST(:line_line_no AS integer[]),
                CAST(:line_product_id AS uuid[]), CAST(:line_description AS text[]),
                CAST(:line_quantity AS numeric[]), CAST(:line_unit_price AS numeric[]),
                CAST(:line_tax_rate AS numeric[]), CAST(:line_gross AS numeric[]),
                CAST(:line_line_discount AS numeric[]), CAST(:line_order_discount AS numeric[]),
                CAST(:line_tax AS numeric[]), CAST(:line_total AS numeric[]),
                CAST(:line_discount_kind AS text[]), CAST(:line_discount_value AS numeric[]))
         AS l (id, line_no, product_id, description, quantity, unit_price, tax_rate, gross,
               line_discount, order_discount, tax, total, discount_kind, discount_value)""")
# The parameters: the receipt's columns by name; each child column as an array named
# "<payment|line>_<column>".
_RECEIPT_COLUMNS = ("tenant_id", "id", "register_id", "shift_id", "subtotal", "discount_total",
                    "tax_total", "total", "paid", "change", "created_by", "created_at",
                    "occurred_at", "client_receipt_id", "client_fingerprint", "discount_kind",
                    "discount_value")
_PAYMENT_COLUMNS = ("id", "line_no", "method", "amount")
_LINE_COLUMNS = ("id", "line_no", "product_id", "description", "quantity", "unit_price",
                 "tax_rate", "gross", "line_discount", "order_discount", "tax", "total",
                 "discount_kind", "discount_value")


def _insert(receipt: Receipt) -> None:
    """Write the new receipt with its lines and payments, then put the objects in the session
    as if a flush had written them (persistent, nothing pending), so the rest of the
    transaction sees them as usual."""
    lines, payments = receipt.lines, receipt.payments
    db.session.execute(_INSERT_RECEIPT, {
        **{column: getattr(receipt, column) for column in _RECEIPT_COLUMNS},
        **{f"payment_{column}": [getattr(p, column) for p in payments]
           for column in _PAYMENT_COLUMNS},
        **{f"line_{column}": [getattr(line, column) for line in lines]
           for column in _LINE_COLUMNS}})
    written = [receipt, *lines, *payments]
    for row in written:
        make_transient_to_detached(row)
    db.session.add_all(written)


@dataclass(frozen=True)
class Sale:
    """What recording a sale did: the receipt, whether it is new (False: a till's replay found
    the original) and the stock balances it left below zero."""

    receipt: Receipt
    created: bool
    stock_below_zero: list[dict[str, Any]] = field(default_factory=list)


def create_receipt(tenant_id: uuid.UUID, register_id: uuid.UUID, data: dict[str, Any],
                   actor: str) -> Sale:
    """Sell at a register during its open shift (409 without one).

    With the till's ``client_receipt_id``, a sale already recorded under it is answered as it
    is (offline.py): the constraint on (tenant, register, client id) decides, also under races.
    """
    client_id = data.get("client_receipt_id")
    sent = offline.fingerprint(data) if client_id is not None else None
    # A replay is answered even after its shift closed (an unknown register finds nothing).
    if client_id is not None and (existing := offline.find(register_id, client_id)):
        return Sale(offline.original(existing, sent), created=False)
    now = datetime.now(UTC)
    occurred_at = offline.occurred_at(data, now)
    till = shifts.open_till(register_id, "the register has no open shift; open one before "
                                         "selling")
    register, shift = till.register, till.shift
    receipt_id = uuid.uuid4()
    lines, document = _receipt_lines(tenant_id, receipt_id, data["lines"], data.get("discount"))
    paid, change = _change(document.total, data["payments"])
    discount = data.get("discount")
    receipt = Receipt(
        tenant_id=tenant_id, id=receipt_id, register_id=register.id, shift_id=shift.id,
        discount_kind=discount["kind"] if discount else None,
        discount_value=discount["value"] if discount else None,
        subtotal=document.subtotal, discount_total=document.discount_total,
        tax_total=document.tax_total, total=document.total, paid=paid, change=change,
        created_by=actor, created_at=now, occurred_at=occurred_at,
        client_receipt_id=client_id, client_fingerprint=sent)
    receipt.lines = lines
    receipt.payments = [Payment(tenant_id=tenant_id, id=uuid.uuid4(), receipt_id=receipt_id,
                                line_no=number, method=p["method"], amount=p["amount"])
                        for number, p in enumerate(data["payments"], start=1)]
    if client_id is None:  # nothing here is unique: no savepoint to recover from a clash
        _insert(receipt)
    else:
        try:
            with db.session.begin_nested():
                _insert(receipt)
        except IntegrityError:
            # A replay racing this one committed the same client id first (the insert waited
            # for it): answer its receipt.
            existing = offline.find(register.id, client_id)
            if existing is None:
                raise
            return Sale(offline.original(existing, sent), created=False)
    shift_totals.add_receipt(tenant_id, receipt)  # before stock: every POS writer's lock order
    posted = post_stock_moves(tenant_id, [
        {"product_id": line.product_id, "quantity": -line.quantity, "reason": "pos_sale",
         "location_id": register.location_id, "reference_type": RECEIPT_REFERENCE,
         "reference_id": receipt.id, "note": f"register {register.code}"}
        for line in lines], actor)
    app_state().registry.hook.tenantry_sales_sale_completed(
        tenant_id=tenant_id, sale=sale_payload(receipt), actor=actor)
    fiscal.show_on(receipt, fiscal.fiscalize(tenant_id, register, "receipt", receipt.id,
                                              _fiscal_receipt(receipt), till.settings,
                                              till.fiscal_waiting))
    return Sale(receipt, created=True, stock_below_zero=balances_below_zero(tenant_id, posted))
