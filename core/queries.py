"""Small query helpers shared by every module's services (look-ups, search, sorting).

They only build or run SQLAlchemy statements through ``db.session``; RLS confines every one of
them to the current tenant, so "not found" also covers another tenant's ids.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import Select, select

from core.extensions import db

Lock = bool | Literal["update", "share"] | None


def by_id(model, row_id: uuid.UUID, lock: Lock = None):
    """The row of ``model`` with this id in the current tenant, or None.

    ``lock``: True or "update" -> FOR UPDATE (an update that checked an ETag must not race
    another update); "share" -> FOR SHARE (keep the row as read until commit).
    """
    statement = select(model).where(model.id == row_id)
    if lock is True or lock == "update":
        statement = statement.with_for_update()
    elif lock == "share":
        statement = statement.with_for_update(read=True)
    return db.session.execute(statement).scalar_one_or_none()


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
