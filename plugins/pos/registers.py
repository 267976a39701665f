"""POS registers: list, get, create, change, delete (owners). A register's code is unique in
its tenant; an inactive one sells nothing, and one with an open shift cannot be deactivated."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from core.sdk import Conflict, add_row, apply_changes, db, get_or_404, value_taken
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


def create_register(tenant_id: uuid.UUID, data: dict[str, Any]) -> Register:
    _require_free_code(data["code"])
    return add_row(Register, tenant_id, data)


def update_register(register: Register, changes: dict[str, Any]) -> Register:
    if "code" in changes and changes["code"] != register.code:
        _require_free_code(changes["code"], exclude=register.id)
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
