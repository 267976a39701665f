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

The role check: the app's engine checks the role of its connections (superuser, BYPASSRLS or a
table owner is refused) until one passes, whatever serves the app (gunicorn, ``flask run``,
tests); ``core.database`` also runs it eagerly at start-up in production.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from flask import current_app, has_request_context
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from core.extensions import db

_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("tenantry_tenant_id", default=None)

_SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant_id, true)")
# A request's transaction: its tenant and its time limits in the one statement sent at begin.
_SET_TENANT_AND_LIMITS = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true), "
    "set_config('statement_timeout', :statement_timeout, true), "
    "set_config('lock_timeout', :lock_timeout, true)")
# app.extensions key: {"statement_timeout": "<ms>", "lock_timeout": "<ms>"} (core.database).
REQUEST_LIMITS = "tenantry_request_limits"


class UnsafeDatabaseRole(RuntimeError):
    """The app's database role could bypass row level security."""


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
    return current_app.extensions.get(REQUEST_LIMITS)


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


# --------------------------------------------------------------------------- role check

_ROLE_FACTS_SQL = """
    SELECT r.rolname, r.rolsuper, r.rolbypassrls,
           (SELECT count(*) FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relowner = r.oid
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg_toast%'
               AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) AS owned_tables
      FROM pg_roles r WHERE r.rolname = current_user
"""
_ROLE_FACTS = text(_ROLE_FACTS_SQL)

SETUP_DB_COMMAND = "tenantry setup-db --admin-url URL"


def _problems(name: str, superuser: bool, bypass: bool, owned: int) -> list[str]:
    problems = []
    if superuser:
        problems.append(f"role {name} is a superuser (ALTER ROLE {name} NOSUPERUSER)")
    if bypass:
        problems.append(f"role {name} has BYPASSRLS (ALTER ROLE {name} NOBYPASSRLS)")
    if owned:
        problems.append(f"role {name} owns {owned} table(s); tables belong to the migration "
                        "role (ALTER TABLE ... OWNER TO <owner role>)")
    return problems


def refusal_message(problems: list[str]) -> str:
    """The one refusal text: what is wrong, how to fix the role, and the command that sets up
    correct roles."""
    return ("refusing to serve: DATABASE_URL must name an unprivileged app role so that row "
            "level security applies; " + "; ".join(problems) + f". `{SETUP_DB_COMMAND}` creates "
            "a correct owner role and app role.")


def role_problems(engine: Engine) -> list[str]:
    """What makes the connected role unfit to serve tenants (empty list = fit)."""
    with engine.connect() as connection:
        return _problems(*connection.execute(_ROLE_FACTS).one())


def verify_app_role(engine: Engine) -> None:
    problems = role_problems(engine)
    if problems:
        raise UnsafeDatabaseRole(refusal_message(problems))


class RoleCheck:
    """A pool ``connect`` listener: checks the role of each new connection until one passes.

    A refused connection is closed by the pool and the error reaches the caller (a request
    answers 503 with the refusal), so every new attempt checks again and the app serves as soon
    as the role is fixed, without a restart. Once a connection passed, the engine trusts its
    role: one query per engine, not one per connection.
    """

    def __init__(self) -> None:
        self.passed = False

    def __call__(self, dbapi_connection, connection_record) -> None:
        if self.passed:
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(_ROLE_FACTS_SQL)
            facts = cursor.fetchone()
        finally:
            cursor.close()
            dbapi_connection.rollback()  # hand the pool a connection with no transaction open
        problems = _problems(*facts)
        if problems:
            raise UnsafeDatabaseRole(refusal_message(problems))
        self.passed = True


def install_role_check(engine: Engine) -> RoleCheck:
    check = RoleCheck()
    event.listen(engine, "connect", check)
    return check
