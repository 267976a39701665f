"""The RLS session: every transaction starts scoped to the current tenant.

A SQLAlchemy ``after_begin`` listener runs ``set_config('app.tenant_id', <tenant>, true)`` as the
first statement of every transaction, from a context variable. The setting is transaction-local
(never a session-level SET), so a pooled connection, or pgbouncer in transaction mode, can never
carry one tenant's scope into another's transaction, and a commit in the middle of a request
cannot drop the scope: the next transaction sets it again. No tenant → empty setting → the
policies match no row (fail closed).

In a web request the same statement also sets the request's time limits, transaction-locally
(STATEMENT_TIMEOUT_MS, LOCK_TIMEOUT_MS): a stuck or locked database answers 503/409 long before
gunicorn's worker timeout, at no extra round trip and with nothing left on the connection.

The check that the app's role cannot bypass these policies is ``core.role_check``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from flask import has_request_context
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.app_state import find_app_state
from core.extensions import db

_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("tenantry_tenant_id", default=None)

_SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant_id, true)")
# A request's transaction: its tenant and its time limits in the one statement sent at begin.
_SET_TENANT_AND_LIMITS = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true), "
    "set_config('statement_timeout', :statement_timeout, true), "
    "set_config('lock_timeout', :lock_timeout, true)")


def current_tenant_id() -> uuid.UUID | None:
    return _current_tenant.get()


# The value this session's open transaction has set (a Session.info key), so that binding
# the tenant it already has sends nothing: a request binds its tenant twice (identity, then
# pipeline) and a savepoint begins with the setting of its transaction. Trusted only inside
# one transaction: forgotten when it ends, and when a savepoint that switched tenants ends
# (rolled back, PostgreSQL restores the value from before it, which this cannot see).
_APPLIED = "tenantry_tenant_setting"
_SAVEPOINT_START = "tenantry_tenant_setting_at_savepoints"


def _setting(tenant_id: uuid.UUID | None) -> str:
    return str(tenant_id) if tenant_id else ""


def apply_tenant_setting(connection: Connection, tenant_id: uuid.UUID | None) -> None:
    connection.execute(_SET_TENANT, {"tenant_id": _setting(tenant_id)})


def _apply_in_session(session: Session, tenant_id: uuid.UUID | None) -> None:
    """Switch the open transaction to ``tenant_id`` unless it is already scoped to it."""
    if session.info.get(_APPLIED) != _setting(tenant_id):
        apply_tenant_setting(session.connection(), tenant_id)
        session.info[_APPLIED] = _setting(tenant_id)


def _request_limits() -> dict[str, str] | None:
    """The time limits of a web request; None for CLI and background work (no limit)."""
    if not has_request_context():
        return None
    state = find_app_state()
    return state.request_limits if state is not None else None


def _after_begin(session: Session, transaction, connection: Connection) -> None:
    value = _setting(_current_tenant.get())
    if transaction.nested:
        # A savepoint inherits its transaction's time limits; only the tenant may differ.
        session.info.setdefault(_SAVEPOINT_START, {})[transaction] = session.info.get(_APPLIED)
        if session.info.get(_APPLIED) == value:
            return  # the savepoint already runs under this setting
        connection.execute(_SET_TENANT, {"tenant_id": value})
    elif (limits := _request_limits()) is not None:
        connection.execute(_SET_TENANT_AND_LIMITS, {"tenant_id": value, **limits})
    else:
        connection.execute(_SET_TENANT, {"tenant_id": value})
    session.info[_APPLIED] = value


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.nested:
        started_with = session.info.get(_SAVEPOINT_START, {}).pop(transaction, None)
        if started_with is None or started_with != session.info.get(_APPLIED):
            session.info.pop(_APPLIED, None)  # switched inside: unknown after a rollback
        return
    if transaction.parent is None:
        session.info.pop(_APPLIED, None)
        session.info.pop(_SAVEPOINT_START, None)


def install_rls_listener() -> None:
    """Register the listeners once per process (create_app may run many times in tests)."""
    if not event.contains(db.session, "after_begin", _after_begin):
        event.listen(db.session, "after_begin", _after_begin)
    if not event.contains(db.session, "after_transaction_end", _after_transaction_end):
        event.listen(db.session, "after_transaction_end", _after_transaction_end)


def bind_tenant(tenant_id: uuid.UUID | None):
    """Set the tenant for the rest of this context (a request); returns a token for reset.

    A transaction already open (e.g. the one that looked the tenant up) is switched too.
    """
    token = _current_tenant.set(tenant_id)
    session = db.session()
    if session.in_transaction():
        _apply_in_session(session, tenant_id)
    return token


def unbind_tenant(token) -> None:
    _current_tenant.reset(token)


@contextlib.contextmanager
def tenant_context(tenant_id: uuid.UUID | None) -> Iterator[None]:
    """Scope the enclosed work (CLI, jobs, platform actions) to one tenant.

    If a transaction is already open, its setting is switched now and switched back on exit,
    so the enclosed statements never run under the wrong scope.
    """
    token = _current_tenant.set(tenant_id)
    session = db.session()
    switched = session.in_transaction()
    if switched:
        _apply_in_session(session, tenant_id)
    try:
        yield
    finally:
        _current_tenant.reset(token)
        if switched and session.in_transaction():
            _apply_in_session(session, _current_tenant.get())
