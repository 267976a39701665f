"""Small query helpers shared by every module's services (look-ups and get-or-404, search,
sorting, adding a row and applying a partial update).

They only build or run SQLAlchemy statements through ``db.session``; RLS confines every one of
them to the current tenant, so "not found" also covers another tenant's ids.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import Select, select

from core.errors import NotFound
from core.extensions import db

Lock = bool | Literal["update", "share"] | None


def by_id(model, row_id: uuid.UUID, lock: Lock = None, *, tenant_id: uuid.UUID | None = None):
    """The row of ``model`` with this id in the current tenant, or None.

    ``lock``: True or "update" -> FOR UPDATE (an update that checked an ETag must not race
    another update); "share" -> FOR SHARE (keep the row as read until commit). ``tenant_id``
    also names the tenant in the statement (RLS stays the guard).
    """
    statement = select(model).where(model.id == row_id)
    if tenant_id is not None:
        statement = statement.where(model.tenant_id == tenant_id)
    if lock is True or lock == "update":
        statement = statement.with_for_update()
    elif lock == "share":
        statement = statement.with_for_update(read=True)
    return db.session.execute(statement).scalar_one_or_none()


def get_or_404(model, row_id: uuid.UUID, what: str, lock: Lock = None, *,
               tenant_id: uuid.UUID | None = None):
    """The row of ``model`` with this id in the current tenant (``by_id``), else NotFound
    "<what> not found" (another tenant's id is not found either: RLS hides it)."""
    row = by_id(model, row_id, lock, tenant_id=tenant_id)
    if row is None:
        raise NotFound(f"{what} not found")
    return row


def add_row(model, tenant_id: uuid.UUID, data: dict[str, Any]):
    """A new row of ``model`` in ``tenant_id`` with a fresh id and ``data``, flushed."""
    row = model(tenant_id=tenant_id, id=uuid.uuid4(), **data)
    db.session.add(row)
    db.session.flush()
    return row


def apply_changes(row, changes: dict[str, Any]):
    """Set each field of ``changes`` on ``row`` (a validated partial update), flushed."""
    for field, value in changes.items():
        setattr(row, field, value)
    db.session.flush()
    return row


def value_taken(model, field: str, value, exclude: uuid.UUID | None = None) -> bool:
    """Another row of ``model`` here (not ``exclude``) has ``value`` in ``field``: the check
    that names the field in a 409 (the unique constraint stays the guard against races)."""
    statement = select(model.id).where(getattr(model, field) == value)
    if exclude is not None:
        statement = statement.where(model.id != exclude)
    return db.session.execute(statement).first() is not None


def where_given(statement: Select, model, args: dict, *fields: str) -> Select:
    """``statement`` filtered to rows whose ``field`` equals ``args[field]``, for each of
    ``fields`` present in ``args`` (a list's optional equality filters)."""
    for field in fields:
        if field in args:
            statement = statement.where(getattr(model, field) == args[field])
    return statement


def contains_pattern(term: str) -> str:
    """An ILIKE pattern matching ``term`` anywhere, with LIKE's wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def ordered(statement: Select, model, sort: str) -> Select:
    """Order by a whitelisted column name (``-name`` = descending), empty values last either
    way, then by id, so that pages are stable when values repeat."""
    column = getattr(model, sort.lstrip("-"))
    primary = column.desc() if sort.startswith("-") else column.asc()
    return statement.order_by(primary.nulls_last(), model.id)


def sort_choices(*names: str) -> list[str]:
    """The accepted values of a ``sort`` query argument: each name, ascending or descending."""
    return [*names, *(f"-{name}" for name in names)]
