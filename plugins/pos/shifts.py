"""Cashier shifts: open one per register (with the opening cash), cash in and out, the X report
while open, and closing with the counted cash, which freezes the Z report.

Concurrency: receipts and refunds read their shift ``FOR SHARE`` and closing takes it ``FOR
UPDATE``, so a shift cannot close while a sale in it is being written, and the Z report sees
every sale of the shift. Reports and closing read the running totals (shift_totals.py), not the
receipts: closing a shift of 10,000 receipts reads as many rows as closing one of ten. Opening
relies on the partial unique index (one open shift per register).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError

from core.sdk import Conflict, db, get_or_404, where_given
from plugins.pos import fiscal, registers, shift_totals
from plugins.pos.fiscal import money_text
from plugins.pos.models import CashMovement, PosSettings, Register, Shift

ZERO = Decimal("0")


def list_shifts(args: dict[str, Any]) -> Select:
    statement = where_given(select(Shift), Shift, args, "register_id", "status")
    return statement.order_by(Shift.opened_at.desc(), Shift.id)


def get_shift(shift_id: uuid.UUID, lock: str | None = None) -> Shift:
    return get_or_404(Shift, shift_id, "shift", lock)


def open_shift_of(register_id: uuid.UUID) -> Shift | None:
    """The register's open shift, unlocked (pages, checks); a sale or a refund reads it locked
    with its register: ``open_till``."""
    return db.session.execute(select(Shift).where(
        Shift.register_id == register_id, Shift.status == "open")).scalar_one_or_none()


@dataclass(frozen=True)
class Till:
    """What a sale or a refund at a register needs first: the register, its open shift, the
    tenant's POS settings (None: the defaults) and whether fiscal records wait that may have to
    go first (``fiscal.backlog``); ``fiscal.fiscalize`` takes the last two."""

    register: Register
    shift: Shift
    settings: PosSettings | None
    fiscal_waiting: bool


# Built once: a sale's first statement, the same for every sale but its register.
_TILL = (select(Register, Shift, PosSettings, fiscal.backlog(Register.tenant_id, Register.id))
         .join(Shift, and_(Shift.tenant_id == Register.tenant_id,
                           Shift.register_id == Register.id, Shift.status == "open"))
         .outerjoin(PosSettings, PosSettings.tenant_id == Register.tenant_id)
         .where(Register.id == bindparam("register_id"))
         .with_for_update(read=True, of=Shift))


def open_till(register_id: uuid.UUID, no_shift: str) -> Till:
    """The register with its open shift (read ``FOR SHARE``: the shift cannot close while the
    document is written), the POS settings and the fiscal backlog, in one statement; 404 for
    no such register, 409 with ``no_shift`` when it has no open shift."""
    row = db.session.execute(_TILL, {"register_id": register_id}).one_or_none()
    if row is None:
        registers.get_register(register_id)  # 404 when there is no such register
        raise Conflict(no_shift)
    return Till(*row)


def open_shift(tenant_id: uuid.UUID, register_id: uuid.UUID, data: dict[str, Any],
               actor: str) -> Shift:
    register = registers.get_register(register_id)
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
            shift_totals.start(tenant_id, shift.id)
            db.session.flush()
    except IntegrityError as exc:
        # A concurrent request opened one between the check and the insert: the partial
        # unique index is the real guard.
        raise Conflict("the register already has an open shift; close it first") from exc
    fiscal.fiscalize(tenant_id, register, "shift_open", shift.id, {
        "id": str(shift.id), "opening_float": money_text(shift.opening_float),
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
    shift_totals.add_cash_movement(movement)
    return movement


def list_cash_movements(shift_id: uuid.UUID) -> Select:
    get_shift(shift_id)
    return select(CashMovement).where(CashMovement.shift_id == shift_id).order_by(
        CashMovement.created_at, CashMovement.id)


def shift_report(shift: Shift) -> dict[str, Any]:
    """The shift's totals: an X report while open, the Z report once closed. Reads the running
    totals (shift_totals.py): O(1) rows however many receipts the shift has."""
    totals = shift_totals.totals_of(shift.id)
    sales_cash = totals["paid_cash"] - totals["sales_change"]  # what stayed in the drawer
    refunds_cash, refunds_card = totals["refunds_cash"], totals["refunds_card"]
    expected = (shift.opening_float + totals["cash_in"] - totals["cash_out"] + sales_cash
                - refunds_cash)
    return {
        "kind": "Z" if shift.status == "closed" else "X",
        "shift_id": shift.id, "register_id": shift.register_id, "status": shift.status,
        "opened_at": shift.opened_at, "opened_by": shift.opened_by,
        "closed_at": shift.closed_at, "closed_by": shift.closed_by,
        "opening_float": shift.opening_float,
        "receipts": totals["receipts"], "sales_subtotal": totals["sales_subtotal"],
        "sales_discount_total": totals["sales_discount_total"],
        "sales_tax_total": totals["sales_tax_total"], "sales_total": totals["sales_total"],
        "sales_cash": sales_cash, "sales_card": totals["paid_card"],
        "refunds": totals["refunds"], "refunds_total": refunds_cash + refunds_card,
        "refunds_cash": refunds_cash, "refunds_card": refunds_card,
        "net_total": totals["sales_total"] - refunds_cash - refunds_card,
        "cash_in": totals["cash_in"], "cash_out": totals["cash_out"], "expected_cash": expected,
        "counted_cash": shift.counted_cash, "difference": shift.difference,
        "taxes": totals["taxes"],
    }


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
    shift_totals.freeze(shift.id)
    report = shift_report(shift)
    register = registers.get_register(shift.register_id)
    fiscal.fiscalize(tenant_id, register, "shift_close", shift.id, {
        "id": str(shift.id), **{k: money_text(v) if isinstance(v, Decimal) else v
                                for k, v in report.items()
                                if k in ("receipts", "refunds") or isinstance(v, Decimal)},
        "taxes": [{key: money_text(value) if key != "tax_rate" else str(value)
                   for key, value in rate.items()} for rate in report["taxes"]]})
    return report
