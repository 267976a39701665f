"""Every ORM statement on a tenant table names its tenant: ``tenant_id = :tenant`` beside the
RLS policy (docs/architecture.md, "Tenancy and isolation").

A ``do_orm_execute`` listener adds ``with_loader_criteria(TenantMixin, tenant_id == <bound
tenant>)`` to every ORM SELECT, UPDATE and DELETE while a tenant is bound (core/rls.py), for
every tenant entity the statement touches, joins, relationships and row locks included. RLS
stays the guard; the predicate gives the planner the index prefix (every tenant key starts with
``tenant_id``) and lets a distributed PostgreSQL (Citus) route the statement to one shard, which
it cannot do from a policy (citus#7415) — nor take ``FOR UPDATE`` locks without it. SQL written
as text (reports, functions) carries its own ``tenant_id = :tenant_id``.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from core.extensions import db
from core.models import TenantMixin
from core.rls import current_tenant_id


def _add_tenant_predicate(state: ORMExecuteState) -> None:
    tenant_id = current_tenant_id()
    if tenant_id is None or not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the statement that loaded the parent apply already
    state.statement = state.statement.options(with_loader_criteria(
        TenantMixin, lambda cls: cls.tenant_id == tenant_id, include_aliases=True))


def install_tenant_predicates() -> None:
    """Once per process, like the RLS listener."""
    if not event.contains(db.session, "do_orm_execute", _add_tenant_predicate):
        event.listen(db.session, "do_orm_execute", _add_tenant_predicate)
