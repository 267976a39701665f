"""The RLS session: every transaction starts scoped to the current tenant.

A SQLAlchemy ``after_begin`` listener sends ``SET LOCAL app.tenant_id = '<tenant>'`` first in
every transaction, from a context variable. The setting is transaction-local (never a
session-level SET), so a pooled connection, or pgbouncer in transaction mode, can never carry
one tenant's scope into another's transaction, and a commit in the middle of a request cannot
drop the scope: the next transaction sets it again. No tenant → empty setting → the policies
match no row (fail closed).

*Why ``SET LOCAL`` and not ``set_config(..., true)``:* on a Citus coordinator only SET commands
reach the worker nodes (with ``citus.propagate_set_commands = 'local'`` for the app role,
docs/scale-out.md); a ``set_config`` stays on the coordinator and RLS on the shards refuses
every row. SET takes no bind parameters, so the value is written into the statement — only
ever a ``uuid.UUID`` rendered by Python, never text from a request.

In a web request the same round trip also sets the request's time limits, transaction-locally
(STATEMENT_TIMEOUT_MS, LOCK_TIMEOUT_MS): a stuck or locked database answers 503/409 long before
gunicorn's worker timeout, with nothing left on the connection. The statements are sent in one
simple-protocol message (no parameters: psycopg never prepares it), one round trip as before.

The check that the app's role cannot bypass these policies is ``core.role_check``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from flask import has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.app_state import find_app_state
from core.extensions import db

_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("tenantry_tenant_id", default=None)

def scope_statement(tenant_id: uuid.UUID | None, limits: dict[str, str] | None = None, *,
                    with_version: bool = False) -> str:
    """The SQL that scopes a transaction to ``tenant_id`` (and sets a request's time limits).
    ``with_version``: first read the tenant's ``state_version`` in the same message, so a
    request learns whether its cached tenant and toggles are current at no extra round trip
    (core.tenancy.confirm_request_tenant).

    Values are rendered from types that cannot carry SQL: a ``uuid.UUID`` (re-parsed, so a
    string that is not one raises) and integers.
    """
    value = str(uuid.UUID(str(tenant_id))) if tenant_id else ""
    statements = [f"SET LOCAL app.tenant_id = '{value}'"]
    if with_version and value:
        # value is a re-rendered UUID (above), never text from a request.
        statements.insert(0, f"SELECT state_version FROM tenants WHERE id = '{value}'")  # noqa: S608
    if limits is not None:
        statements.append(f"SET LOCAL statement_timeout = {int(limits['statement_timeout'])}")
        statements.append(f"SET LOCAL lock_timeout = {int(limits['lock_timeout'])}")
    return "; ".join(statements)


def _send(connection: Connection, statement: str):
    # Without parameters psycopg uses the simple query protocol, which runs the SET statements
    # of one message in one round trip (and never prepares a message of several statements).
    # Through SQLAlchemy, so a lost connection is recognised, invalidated and answered 503.
    # The result is the first statement's (the state_version read, when asked for).
    return connection.exec_driver_sql(statement)


def _scope(session: Session, connection: Connection, tenant_id: uuid.UUID | None,
           limits: dict[str, str] | None, read: str | None = None) -> list[tuple] | None:
    """Scope the transaction; in a request, also note the tenant's state_version. ``read``
    (see ``begin_with_read``) rides in the same message: its rows are returned."""
    with_version = tenant_id is not None and has_request_context()
    statement = scope_statement(tenant_id, limits, with_version=with_version)
    if read is None:
        result = _send(connection, statement)
        if with_version:
            session.info[_VERSION] = (tenant_id, result.scalar())
        return None
    # The message's first statement must return rows (SQLAlchemy closes a cursor whose first
    # result has none): the version read, else the read itself, goes first.
    result = _send(connection, f"{statement}; {read}" if with_version else f"{read}; {statement}")
    cursor = result.cursor
    try:
        first = cursor.fetchall()
        if not with_version:
            return first
        session.info[_VERSION] = (tenant_id, first[0][0] if first else None)
        while cursor.nextset():
            pass  # psycopg stays on the last result: the read's
        return cursor.fetchall()
    finally:
        result.close()


def current_tenant_id() -> uuid.UUID | None:
    return _current_tenant.get()


# The value this session's open transaction has set (a Session.info key), so that binding
# the tenant it already has sends nothing: a request binds its tenant twice (identity, then
# pipeline) and a savepoint begins with the setting of its transaction. Trusted only inside
# one transaction: forgotten when it ends, and when a savepoint that switched tenants ends
# (rolled back, PostgreSQL restores the value from before it, which this cannot see).
_APPLIED = "tenantry_tenant_setting"
# (tenant id, its state_version) as read when this transaction was scoped to it in a request.
_VERSION = "tenantry_tenant_state_version"
_SAVEPOINT_START = "tenantry_tenant_setting_at_savepoints"


def _setting(tenant_id: uuid.UUID | None) -> str:
    return str(tenant_id) if tenant_id else ""


def _apply_in_session(session: Session, tenant_id: uuid.UUID | None,
                      read: str | None = None) -> list[tuple] | None:
    """Switch the open transaction to ``tenant_id`` unless it is already scoped to it; the
    rows of ``read`` when the switch sent it."""
    if session.info.get(_APPLIED) == _setting(tenant_id):
        return None
    rows = _scope(session, session.connection(), tenant_id, None, read)
    session.info[_APPLIED] = _setting(tenant_id)
    return rows


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
        _send(connection, scope_statement(_current_tenant.get()))
    else:
        read = session.info.pop(_OPENING_READ, None)
        rows = _scope(session, connection, _current_tenant.get(), _request_limits(), read)
        if read is not None:
            session.info[_OPENING_ROWS] = rows
    session.info[_APPLIED] = value


# A read to send in the message that begins the next transaction, and its rows (Session.info
# keys; ``begin_with_read``).
_OPENING_READ = "tenantry_opening_read"
_OPENING_ROWS = "tenantry_opening_rows"


def begin_with_read(read: str) -> list[tuple]:
    """Begin the session's transaction (none may be open) with ``read`` in the message that
    scopes it: one round trip where there would be two. ``read`` is one SELECT without
    parameters (the message uses the simple query protocol): every value in it must be
    rendered from a type or a pattern that cannot carry SQL. Returns its rows (tuples)."""
    session = db.session()
    if session.in_transaction():
        raise RuntimeError("begin_with_read needs a session without an open transaction")
    session.info[_OPENING_READ] = read
    try:
        session.connection()
    finally:
        session.info.pop(_OPENING_READ, None)
    return session.info.pop(_OPENING_ROWS)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.nested:
        started_with = session.info.get(_SAVEPOINT_START, {}).pop(transaction, None)
        if started_with is None or started_with != session.info.get(_APPLIED):
            session.info.pop(_APPLIED, None)  # switched inside: unknown after a rollback
        return
    if transaction.parent is None:
        session.info.pop(_APPLIED, None)
        session.info.pop(_SAVEPOINT_START, None)
        session.info.pop(_VERSION, None)


def install_rls_listener() -> None:
    """Register the listeners once per process (create_app may run many times in tests)."""
    if not event.contains(db.session, "after_begin", _after_begin):
        event.listen(db.session, "after_begin", _after_begin)
    if not event.contains(db.session, "after_transaction_end", _after_transaction_end):
        event.listen(db.session, "after_transaction_end", _after_transaction_end)


def scoped_state_version(tenant_id: uuid.UUID) -> int | None:
    """The tenant's ``state_version`` as the request's transaction read it when it was scoped
    to the tenant (beginning the transaction now if none is open: it would begin for the next
    query anyway). None outside a request."""
    session = db.session()
    if not session.in_transaction():
        session.connection()
    noted = session.info.get(_VERSION)
    return noted[1] if noted is not None and noted[0] == tenant_id else None


def bind_tenant(tenant_id: uuid.UUID | None):
    """Set the tenant for the rest of this context (a request); returns a token for reset.

    A transaction already open (e.g. the one that looked the tenant up) is switched too.
    """
    return bind_tenant_with_read(tenant_id, None)[0]


def bind_tenant_with_read(tenant_id: uuid.UUID | None, read: str | None):
    """``bind_tenant``, and when that switches the open transaction to the tenant, ``read``
    (one SELECT, rules of ``begin_with_read``) runs in the same message, after the scope:
    (token, its rows or None when nothing was sent)."""
    token = _current_tenant.set(tenant_id)
    session = db.session()
    rows = _apply_in_session(session, tenant_id, read) if session.in_transaction() else None
    return token, rows


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
