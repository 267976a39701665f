"""Tenantry without row level security, for measuring what RLS costs.

The app is unchanged; what differs is the database and one ORM hook:

- the database is a copy of the benchmark database in which every tenant table has its
  policy disabled (``disable_rls``: ``ALTER TABLE ... NO FORCE / DISABLE ROW LEVEL SECURITY``,
  run as the owner on the copy only);
- ``build_app`` adds the tenant filter that RLS would have applied, explicitly, to every ORM
  SELECT, UPDATE and DELETE: ``with_loader_criteria(TenantMixin, tenant_id == <tenant>)``
  (SQLAlchemy applies it to every occurrence of those entities, subqueries and relationship
  loads included). ``set_config`` still runs, so column defaults taken from the setting
  behave as before.

It is a benchmark-only entry point (``gunicorn 'bench.norls_app:build_app()'``), not a setting
of the product: a configuration switch that turns isolation off has no place in production.
Hand-written SQL (``text()``) is not filtered, so the harness checks, before measuring, that
each scenario answers the same body here as on the real app (``bench.run``'s pre-flight).
"""

from __future__ import annotations

import psycopg
from flask import Flask
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

_RLS_TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relrowsecurity
     ORDER BY 1"""


def disable_rls(owner_dsn: str) -> list[str]:
    """Turn RLS off on every table of the (copied) database; returns the table names."""
    with psycopg.connect(owner_dsn) as connection:
        tables = [row[0] for row in connection.execute(_RLS_TABLES).fetchall()]
        for table in tables:
            connection.execute(sql.SQL(
                "ALTER TABLE {0} NO FORCE ROW LEVEL SECURITY; "
                "ALTER TABLE {0} DISABLE ROW LEVEL SECURITY").format(sql.Identifier(table)))
    return tables


def _explicit_tenant_filter(state: ORMExecuteState) -> None:
    from core.models import TenantMixin
    from core.rls import current_tenant_id

    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant_id = current_tenant_id()
    state.statement = state.statement.options(with_loader_criteria(
        TenantMixin, lambda cls: cls.tenant_id == tenant_id, include_aliases=True))


def build_app() -> Flask:
    from core.wsgi import build_app as build_tenantry

    if not event.contains(Session, "do_orm_execute", _explicit_tenant_filter):
        event.listen(Session, "do_orm_execute", _explicit_tenant_filter)
    return build_tenantry()
