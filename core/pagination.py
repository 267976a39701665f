"""Pagination of list routes: ``@blp.paginate(SQLPage)`` on a view returning a ``select``.

The page-size limit (default 10, at most 100) and the ``X-Pagination`` header are
flask-smorest's defaults (``Blueprint.DEFAULT_PAGINATION_PARAMETERS``); this module fetches a
page and its total from PostgreSQL, and gives core's Blueprint two cheaper parts of
flask-smorest's pagination: the parameters' parser keeps one schema instance per parameters
class (webargs makes one per request from a class), and the ``X-Pagination`` metadata is built
as the plain dict its schema's dump gives (integers only), without a schema per request.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Page
from marshmallow import Schema
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser

from core.extensions import db


class SQLPage(Page):
    """flask-smorest pager for a SQLAlchemy ``Select`` (limit/offset plus a count).

    One round trip: the page's rows carry the total as an uncorrelated scalar subquery, which
    PostgreSQL runs once. Only a page with no rows (past the end, or an empty list) needs the
    count on its own. flask-smorest asks for ``item_count`` first, then ``items``.
    """

    _rows: list | None = None

    def _count_statement(self) -> Select:
        statement: Select = self.collection
        return select(func.count()).select_from(statement.order_by(None).subquery())

    def _fetch(self) -> list:
        if self._rows is None:
            statement: Select = self.collection
            total = self._count_statement().correlate(None).scalar_subquery()
            self._rows = db.session.execute(
                statement.add_columns(total.label("tenantry_total"))
                .limit(self.page_params.page_size).offset(self.page_params.first_item)).all()
        return self._rows

    @property
    def items(self):
        return [row[0] for row in self._fetch()]

    @property
    def item_count(self):
        rows = self._fetch()
        if rows:
            return rows[0][-1]
        return db.session.execute(self._count_statement()).scalar_one()


class PaginationParser(FlaskParser):
    """The pagination parameters' parser, with one instance of each parameters schema class:
    they hold no request state, and a schema instance per request cost more than parsing."""

    def __init__(self) -> None:
        super().__init__()
        self._schemas: dict[type, Schema] = {}

    def _get_schema(self, argmap, req) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


def pagination_metadata(page: int, page_size: int, item_count: int) -> dict[str, Any]:
    """``X-Pagination``'s object: the total and the page count; with items, also the first,
    last and (when it exists) this page, and its neighbours — in the key order of
    flask-smorest's ``PaginationMetadataSchema`` (tests/core/test_pagination_metadata.py)."""
    metadata: dict[str, Any] = {"total": item_count}
    pages = -(-item_count // page_size)  # ceiling division; 0 items → 0 pages
    metadata["total_pages"] = pages
    if pages == 0:
        return metadata
    metadata.update(first_page=1, last_page=pages)
    if page <= pages:
        metadata["page"] = page
        if page > 1:
            metadata["previous_page"] = page - 1
        if page < pages:
            metadata["next_page"] = page + 1
    return metadata
