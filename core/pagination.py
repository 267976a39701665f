"""Pagination of list routes: ``@blp.paginate(SQLPage)`` on a view returning a ``select``.

The page-size limit (default 10, at most 100) and the ``X-Pagination`` header are
flask-smorest's defaults (``Blueprint.DEFAULT_PAGINATION_PARAMETERS``); this module only fetches
a page and its total from PostgreSQL.
"""

from __future__ import annotations

from flask_smorest import Page
from sqlalchemy import Select, func, select

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
