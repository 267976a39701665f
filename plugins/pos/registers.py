"""POS registers: list, get, create, change, delete (owners). A register's code is unique in
its tenant; an inactive one sells nothing, and one with an open shift cannot be deactivated.

A register's ``location_id`` is a soft reference (POS does not require stock, so there is no
foreign key to ``stock_locations``): it is checked through the stock module's
``tenantry_stock_location_exists`` whenever it is set, and refused (422) when stock is off for
the tenant or the id is not one of its locations -- another tenant's included."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from core.sdk import (
    Conflict,
    Unprocessable,
    add_row,
    apply_changes,
    call_if_enabled,
    db,
    get_or_404,
    value_taken,
)
from plugins.pos import shifts
from plugins.pos.models import Register


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


def _require_stock_location(tenant_id: uuid.UUID, location_id: uuid.UUID | None) -> None:
    if location_id is None:
        return
    found = call_if_enabled("stock", tenant_id, "tenantry_stock_location_exists",
                            location_id=location_id)
    if not found.called:
        raise Unprocessable("a register names a stock location only when stock is enabled",
                            {"location_id": ["the stock module is not enabled for this tenant"]})
    if not found.result:
        raise Unprocessable("no such stock location",
                            {"location_id": ["not a stock location of this tenant"]})


def create_register(tenant_id: uuid.UUID, data: dict[str, Any]) -> Register:
    _require_free_code(data["code"])
    _require_stock_location(tenant_id, data.get("location_id"))
    return add_row(Register, tenant_id, data)


def update_register(register: Register, changes: dict[str, Any]) -> Register:
    if "code" in changes and changes["code"] != register.code:
        _require_free_code(changes["code"], exclude=register.id)
    if changes.get("location_id") != register.location_id:
        _require_stock_location(register.tenant_id, changes.get("location_id"))
    if changes.get("active") is False and shifts.open_shift_of(register.id) is not None:
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
