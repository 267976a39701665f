"""POS operations: registers, shifts (open, cash in/out, X report, close with a Z report),
receipts and refunds. Explicit arguments, flush never commit, ``core.errors`` for refusals.

Receipts are priced by the sales module's public arithmetic (``plugins.sales.api``), post
``pos_sale`` stock moves (refunds: ``return``) through the stock hook when stock is enabled,
fire the sales module's ``tenantry_sales_sale_completed`` hook, and are registered with the
tenant's cash-register provider (``plugins.pos.fiscal``).

Concurrency: a receipt or refund reads its shift ``FOR SHARE`` and closing takes it ``FOR
UPDATE``, so a shift cannot close while a sale in it is being written, and the Z report sees
every sale of the shift. Opening a shift relies on the partial unique index (one open shift per
register).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.exc import IntegrityError

from core.sdk import (
    Conflict,
    Unprocessable,
    add_row,
    app_state,
    apply_changes,
    call_if_enabled,
    db,
    get_or_404,
    value_taken,
    where_given,
)
from plugins.catalog.api import Product
from plugins.pos import fiscal
from plugins.pos.models import (
    CashMovement,
    Payment,
    Receipt,
    ReceiptLine,
    Refund,
    RefundLine,
    Register,
    Shift,
)
from plugins.sales.api import LineInput, PricedDocument, discount_from, lines_to_give_back, price

RECEIPT_REFERENCE = "pos_receipt"
REFUND_REFERENCE = "pos_refund"
ZERO = Decimal("0")
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- stock and hooks


def _post_stock(tenant_id: uuid.UUID, moves: list[dict[str, Any]], actor: str) -> None:
    if not moves:
        return
    try:
        call_if_enabled("stock", tenant_id, "tenantry_stock_post_moves", moves=moves, actor=actor)
    except Unprocessable as exc:
        # The products were checked; what stock can still refuse is the register's location.
        raise Unprocessable("the register's stock location is not usable",
                            {"register": ["its location_id is not a stock location of this "
                                          "tenant"]}) from exc


# --------------------------------------------------------------------------- registers


def list_registers(args: dict[str, Any]) -> Select:
    statement = select(Register)
    if "active" in args:
        statement = statement.where(Register.active.is_(args["active"]))
    return statement.order_by(Register.code, Register.id)


def get_register(register_id: uuid.UUID, lock: str | None = None) -> Register:
    return get_or_404(Register, register_id, "register", lock)


def _require_free_code(code: str, exclude: uuid.UUID | None = None) -> None:
    if value_taken(Register, "code", code, exclude):
        raise Conflict("another register has this code", {"code": ["already in use"]})


def create_register(tenant_id: uuid.UUID, data: dict[str, Any]) -> Register:
    _require_free_code(data["code"])
    return add_row(Register, tenant_id, data)


def update_register(register: Register, changes: dict[str, Any]) -> Register:
    if "code" in changes and changes["code"] != register.code:
        _require_free_code(changes["code"], exclude=register.id)
    if changes.get("active") is False and open_shift_of(register.id) is not None:
        raise Conflict("close the register's open shift before deactivating it")
    return apply_changes(register, changes)


def delete_register(register: Register) -> None:
    """Delete a register that never had a shift; one with history answers 409."""
    try:
        with db.session.begin_nested():
            db.session.delete(register)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict("the register has shifts; deactivate it instead") from exc


# --------------------------------------------------------------------------- shifts


def list_shifts(args: dict[str, Any]) -> Select:
    statement = where_given(select(Shift), Shift, args, "register_id", "status")
    return statement.order_by(Shift.opened_at.desc(), Shift.id)


def get_shift(shift_id: uuid.UUID, lock: str | None = None) -> Shift:
    return get_or_404(Shift, shift_id, "shift", lock)


def open_shift_of(register_id: uuid.UUID, lock: str | None = None) -> Shift | None:
    statement = select(Shift).where(Shift.register_id == register_id, Shift.status == "open")
    if lock == "share":
        statement = statement.with_for_update(read=True)
    return db.session.execute(statement).scalar_one_or_none()


def open_shift(tenant_id: uuid.UUID, register_id: uuid.UUID, data: dict[str, Any],
               actor: str) -> Shift:
    register = get_register(register_id)
    if not register.active:
        raise Conflict("the register is inactive")
    if open_shift_of(register.id) is not None:
        raise Conflict("the register already has an open shift; close it first")
    shift = Shift(tenant_id=tenant_id, id=uuid.uuid4(), register_id=register.id, status="open",
                  opening_float=data["opening_float"], opened_by=actor,
                  opened_at=datetime.now(UTC), note=data.get("note", ""))
    try:
        with db.session.begin_nested():
            db.session.add(shift)
            db.session.flush()
    except IntegrityError as exc:
        # A concurrent request opened one between the check and the insert: the partial
        # unique index is the real guard.
        raise Conflict("the register already has an open shift; close it first") from exc
    fiscal.fiscalize(tenant_id, register, "shift_open", shift.id, {
        "id": str(shift.id), "opening_float": _money(shift.opening_float),
        "opened_by": actor, "opened_at": shift.opened_at.isoformat()})
    return shift


def _require_open(shift: Shift) -> None:
    if shift.status != "open":
        raise Conflict("the shift is closed")


def add_cash_movement(tenant_id: uuid.UUID, shift_id: uuid.UUID, data: dict[str, Any],
                      actor: str) -> CashMovement:
    shift = get_shift(shift_id, lock="share")
    _require_open(shift)
    movement = CashMovement(tenant_id=tenant_id, id=uuid.uuid4(), shift_id=shift.id,
                            created_by=actor, created_at=datetime.now(UTC), **data)
    db.session.add(movement)
    db.session.flush()
    return movement


def list_cash_movements(shift_id: uuid.UUID) -> Select:
    get_shift(shift_id)
    return select(CashMovement).where(CashMovement.shift_id == shift_id).order_by(
        CashMovement.created_at, CashMovement.id)


def shift_report(shift: Shift) -> dict[str, Any]:
    """The shift's totals: an X report while open, the Z report once closed."""
    sid = shift.id
    receipts = db.session.execute(
        select(func.count(Receipt.id), func.coalesce(func.sum(Receipt.subtotal), 0),
               func.coalesce(func.sum(Receipt.discount_total), 0),
               func.coalesce(func.sum(Receipt.tax_total), 0),
               func.coalesce(func.sum(Receipt.total), 0),
               func.coalesce(func.sum(Receipt.change), 0))
        .where(Receipt.shift_id == sid)).one()
    paid = dict(db.session.execute(
        select(Payment.method, func.sum(Payment.amount))
        .join(Receipt, (Receipt.tenant_id == Payment.tenant_id)
              & (Receipt.id == Payment.receipt_id))
        .where(Receipt.shift_id == sid).group_by(Payment.method)).all())
    refunds = dict(db.session.execute(
        select(Refund.method, func.sum(Refund.total)).where(Refund.shift_id == sid)
        .group_by(Refund.method)).all())
    refund_count = db.session.execute(
        select(func.count(Refund.id)).where(Refund.shift_id == sid)).scalar_one()
    cash = dict(db.session.execute(
        select(CashMovement.kind, func.sum(CashMovement.amount))
        .where(CashMovement.shift_id == sid).group_by(CashMovement.kind)).all())
    count, subtotal, discount_total, tax_total, total, change = receipts
    sales_cash = paid.get("cash", ZERO) - change  # what stayed in the drawer
    sales_card = paid.get("card", ZERO)
    refunds_cash, refunds_card = refunds.get("cash", ZERO), refunds.get("card", ZERO)
    cash_in, cash_out = cash.get("in", ZERO), cash.get("out", ZERO)
    expected = shift.opening_float + cash_in - cash_out + sales_cash - refunds_cash
    report = {
        "kind": "Z" if shift.status == "closed" else "X",
        "shift_id": shift.id, "register_id": shift.register_id, "status": shift.status,
        "opened_at": shift.opened_at, "opened_by": shift.opened_by,
        "closed_at": shift.closed_at, "closed_by": shift.closed_by,
        "opening_float": shift.opening_float,
        "receipts": count, "sales_subtotal": subtotal, "sales_discount_total": discount_total,
        "sales_tax_total": tax_total, "sales_total": total,
        "sales_cash": sales_cash, "sales_card": sales_card,
        "refunds": refund_count, "refunds_total": refunds_cash + refunds_card,
        "refunds_cash": refunds_cash, "refunds_card": refunds_card,
        "net_total": total - refunds_cash - refunds_card,
        "cash_in": cash_in, "cash_out": cash_out, "expected_cash": expected,
        "counted_cash": shift.counted_cash, "difference": shift.difference,
    }
    return report


def x_report(shift_id: uuid.UUID) -> dict[str, Any]:
    shift = get_shift(shift_id)
    if shift.status != "open":
        raise Conflict("an X report is for an open shift; this one is closed: see its Z report")
    return shift_report(shift)


def z_report(shift_id: uuid.UUID) -> dict[str, Any]:
    shift = get_shift(shift_id)
    if shift.status != "closed":
        raise Conflict("the Z report exists once the shift is closed")
    return shift_report(shift)


def close_shift(tenant_id: uuid.UUID, shift_id: uuid.UUID, data: dict[str, Any],
                actor: str) -> dict[str, Any]:
    """Close with the counted cash: expected vs counted, then the Z report."""
    shift = get_shift(shift_id, lock="update")  # waits for sales being written in it
    _require_open(shift)
    expected = shift_report(shift)["expected_cash"]
    shift.status, shift.closed_at, shift.closed_by = "closed", datetime.now(UTC), actor
    shift.expected_cash, shift.counted_cash = expected, data["counted_cash"]
    shift.difference = data["counted_cash"] - expected
    if data.get("note"):
        shift.note = data["note"]
    db.session.flush()
    report = shift_report(shift)
    register = get_register(shift.register_id)
    fiscal.fiscalize(tenant_id, register, "shift_close", shift.id, {
        "id": str(shift.id), **{k: _money(v) if isinstance(v, Decimal) else v
                                for k, v in report.items()
                                if k in ("receipts", "refunds") or isinstance(v, Decimal)}})
    return report


# --------------------------------------------------------------------------- receipts


def list_receipts(args: dict[str, Any]) -> Select:
    statement = where_given(select(Receipt), Receipt, args, "register_id", "shift_id")
    if "fiscal_status" in args:
        from plugins.pos.models import FiscalRecord

        pending = select(FiscalRecord.document_id).where(
            FiscalRecord.document_type == "receipt", FiscalRecord.status == "pending")
        statement = statement.where(Receipt.id.in_(pending) if args["fiscal_status"] ==
                                    "pending" else Receipt.id.not_in(pending))
    return statement.order_by(Receipt.created_at.desc(), Receipt.id)


def get_receipt(receipt_id: uuid.UUID) -> Receipt:
    return get_or_404(Receipt, receipt_id, "receipt")


def _receipt_lines(tenant_id: uuid.UUID, receipt_id: uuid.UUID, lines: list[dict[str, Any]],
                   discount: dict | None) -> tuple[list[ReceiptLine], PricedDocument]:
    ids = {line["product_id"] for line in lines}
    products = {p.id: p for p in db.session.execute(
        select(Product).where(Product.id.in_(ids))).scalars()}
    errors = {}
    for index, line in enumerate(lines):
        product = products.get(line["product_id"])
        if product is None:
            errors[str(index)] = {"product_id": ["unknown product"]}
        elif not product.active:
            errors[str(index)] = {"product_id": ["product is inactive"]}
    if errors:
        raise Unprocessable("invalid receipt lines", {"lines": errors})
    built = []
    for number, line in enumerate(lines, start=1):
        product = products[line["product_id"]]
        unit_price = line.get("unit_price")
        line_discount = line.get("discount")
        built.append(ReceiptLine(
            tenant_id=tenant_id, id=uuid.uuid4(), receipt_id=receipt_id, line_no=number,
            product_id=product.id, description=product.name, quantity=line["quantity"],
            unit_price=product.sale_price if unit_price is None else unit_price,
            tax_rate=product.tax_rate,
            discount_kind=line_discount["kind"] if line_discount else None,
            discount_value=line_discount["value"] if line_discount else None))
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
        "completed_at": receipt.created_at,
        "lines": [{"product_id": line.product_id, "quantity": line.quantity,
                   "unit_price": line.unit_price, "tax": line.tax, "total": line.total}
                  for line in receipt.lines]}


def _fiscal_receipt(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": str(receipt.id), "shift_id": str(receipt.shift_id),
        "created_at": receipt.created_at.isoformat(), "total": _money(receipt.total),
        "tax_total": _money(receipt.tax_total), "paid": _money(receipt.paid),
        "change": _money(receipt.change),
        "lines": [{"product_id": str(line.product_id), "description": line.description,
                   "quantity": str(line.quantity), "unit_price": _money(line.unit_price),
                   "tax_rate": str(line.tax_rate), "tax": _money(line.tax),
                   "total": _money(line.total)} for line in receipt.lines],
        "payments": [{"method": p.method, "amount": _money(p.amount)}
                     for p in receipt.payments]}


def create_receipt(tenant_id: uuid.UUID, register_id: uuid.UUID, data: dict[str, Any],
                   actor: str) -> Receipt:
    """Sell at a register during its open shift (409 without one)."""
    register = get_register(register_id)
    shift = open_shift_of(register.id, lock="share")
    if shift is None:
        raise Conflict("the register has no open shift; open one before selling")
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
        created_by=actor, created_at=datetime.now(UTC))
    receipt.lines = lines
    receipt.payments = [Payment(tenant_id=tenant_id, id=uuid.uuid4(), receipt_id=receipt_id,
                                line_no=number, method=p["method"], amount=p["amount"])
                        for number, p in enumerate(data["payments"], start=1)]
    db.session.add(receipt)
    db.session.flush()
    _post_stock(tenant_id, [
        {"product_id": line.product_id, "quantity": -line.quantity, "reason": "pos_sale",
         "location_id": register.location_id, "reference_type": RECEIPT_REFERENCE,
         "reference_id": receipt.id, "note": f"register {register.code}"}
        for line in lines], actor)
    app_state().registry.hook.tenantry_sales_sale_completed(
        tenant_id=tenant_id, sale=sale_payload(receipt), actor=actor)
    fiscal.fiscalize(tenant_id, register, "receipt", receipt.id, _fiscal_receipt(receipt))
    db.session.expire(receipt, ["fiscal"])
    return receipt


# --------------------------------------------------------------------------- refunds


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
    receipt = get_receipt(receipt_id)
    register = get_register(receipt.register_id)
    shift = open_shift_of(register.id, lock="share")
    if shift is None:
        raise Conflict("the receipt's register has no open shift; open one to refund")
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
    _post_stock(tenant_id, [
        {"product_id": line.product_id, "quantity": line.quantity, "reason": "return",
         "location_id": register.location_id, "reference_type": REFUND_REFERENCE,
         "reference_id": refund.id, "note": f"refund of receipt {receipt.id}"}
        for line in refund.lines], actor)
    fiscal.fiscalize(tenant_id, register, "refund", refund.id, {
        "id": str(refund.id), "receipt_id": str(receipt.id), "method": refund.method,
        "total": _money(refund.total), "created_at": refund.created_at.isoformat(),
        "lines": [{"receipt_line_id": str(line.receipt_line_id),
                   "product_id": str(line.product_id), "quantity": str(line.quantity),
                   "amount": _money(line.amount)} for line in refund.lines]})
    db.session.expire(refund, ["fiscal"])
    return refund


def get_refund(refund_id: uuid.UUID) -> Refund:
    return get_or_404(Refund, refund_id, "refund")


def list_refunds(receipt_id: uuid.UUID) -> Select:
    get_receipt(receipt_id)
    return select(Refund).where(Refund.receipt_id == receipt_id).order_by(Refund.created_at,
                                                                          Refund.id)
