"""Dead pooled connections replaced at checkout without a round trip (docs/operations.md,
"Database failures").

SQLAlchemy's ``pool_pre_ping`` sends an empty statement on every checkout: a round trip per
request, on a path whose work is two or three statements. An idle connection of the pool has
nothing to read: the server says nothing to a client that asked nothing. When its backend
ends (a restart, ``pg_terminate_backend``, ``idle_session_timeout``, pgbouncer going away or
losing its server connection) the server or pgbouncer sends its farewell or closes the
socket, and the socket becomes readable. So a checkout asks the kernel, without blocking,
whether the connection's socket is readable; if it is (or psycopg already knows the
connection is closed or broken) the pool discards it and opens another before the request
sees it: SQLAlchemy's answer to ``DisconnectionError`` raised by a checkout listener.

What this cannot see, pre-ping could not have prevented either: a backend that dies after
the checkout (the request answers 503 and keeps nothing, as before), or a peer that vanished
without closing (a ping would hang in the same way until the TCP timeout). The price of a
false alarm (something unexpected pending on an idle connection) is one reconnect.
"""

from __future__ import annotations

import select

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def looks_dead(dbapi_connection) -> bool:
    """Whether this idle psycopg connection is closed, broken or has something to read."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()  # poll, not select(): a descriptor may exceed FD_SETSIZE
    poller.register(dbapi_connection.fileno(), _READABLE)
    return bool(poller.poll(0))


def _check_on_checkout(dbapi_connection, connection_record, connection_proxy) -> None:
    if looks_dead(dbapi_connection):
        raise DisconnectionError("the pooled connection's server has gone away")


def install_checkout_check(engine: Engine) -> None:
    """Replace dead connections of ``engine``'s pool at checkout (once per engine)."""
    pool = engine.pool
    if not event.contains(pool, "checkout", _check_on_checkout):
        event.listen(pool, "checkout", _check_on_checkout)
