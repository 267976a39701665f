"""Domain errors and the one place that turns them (and database errors) into HTTP answers.

Services raise these; they never know about HTTP. Every error body has flask-smorest's shape
``{"code", "status", "message", "errors"?}`` and never contains a stack trace or SQL.

A database that cannot answer (down, restarting, an admin shutdown, a pooler error, no pooled
connection free in time, a statement cancelled by its timeout, an unsafe app role) is a 503 with
``Retry-After``, never a 500: the request may be retried as it is.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from flask import Flask, g, jsonify
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.app_state import app_state
from core.extensions import db
from core.role_check import UnsafeDatabaseRole

log = logging.getLogger("tenantry.errors")


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class PaymentRequired(DomainError):
    status = 402


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class PreconditionFailed(DomainError):
    status = 412


class Unprocessable(DomainError):
    """Validation failed; ``errors`` maps field names to messages, as webargs does."""

    status = 422


class ServiceUnavailable(DomainError):
    status = 503


# Seconds a client should wait before retrying a 503: about the time a restarting PostgreSQL, a
# failed-over pooler or an expired TTL cache (TENANT_CACHE_TTL) needs.
RETRY_AFTER_SECONDS = 5


def error_body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase,
                            "message": message}
    if errors:
        body["errors"] = errors
    return body


def error_response(status: int, message: str, errors: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None):
    response = jsonify(error_body(status, message, errors))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tenantry"'
    if status == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


# PostgreSQL SQLSTATEs that mean "the request conflicts with data", not "the server broke".
_SQLSTATE_ANSWERS = {
    "23505": (409, "conflicts with an existing record"),
    "23503": (422, "refers to a record that does not exist"),
    "23514": (422, "violates a rule of the data"),
    "23502": (422, "a required value is missing"),
    "22001": (422, "a value is too long"),
    "22003": (422, "a number is out of range"),
    "22P02": (422, "a value has the wrong format"),
    "40001": (409, "concurrent update; retry the request"),
    "40P01": (409, "concurrent update; retry the request"),
    "55P03": (409, "the record is locked by another request; retry"),
    "42501": (403, "not allowed on this data"),
}


# Why a database could not answer, by SQLSTATE (class 08 is "connection exception").
_UNAVAILABLE_REASONS = {
    "57P01": "the database was shut down by an administrator",
    "57P02": "the database crashed",
    "57P03": "the database is starting up",
    "53300": "the database has no connection slot free",
}


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database could not serve this request (a 503), or None for any other error.

    Shared by the error handlers, the pipeline's final commit and readiness. Never contains
    SQL, a URL or a credential: only a category.
    """
    if isinstance(exc, UnsafeDatabaseRole):
        return str(exc)
    if isinstance(exc, PoolTimeout):
        return "the database is busy: no pooled connection became free in time"
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if sqlstate == "57014":
        return "the query took too long and was cancelled"
    if sqlstate in _UNAVAILABLE_REASONS:
        return _UNAVAILABLE_REASONS[sqlstate]
    if sqlstate in _SQLSTATE_ANSWERS:
        return None  # a conflict with data (e.g. a lock timeout: 409), not an outage
    if (isinstance(exc, OperationalError | InterfaceError) or sqlstate.startswith("08")
            or getattr(exc, "connection_invalidated", False)):
        # Connection refused or lost, a closed connection, a pooler's protocol error, or a
        # connection the engine invalidated (core.engine: driver protocol confusion).
        return "the database is unavailable"
    return None


def rollback_quietly() -> None:
    """Roll the session back; on a connection that is already gone there is nothing to undo."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.debug("rollback after a database error failed too", exc_info=True)


def database_unavailable_response(exc: BaseException):
    """The 503 for an exception that ``unavailable_reason`` recognises (else None)."""
    reason = unavailable_reason(exc)
    if reason is None:
        return None
    cause = getattr(exc, "orig", None) or exc
    log.error("database unavailable: %s (%s, sqlstate=%s) request_id=%s", reason,
              type(cause).__name__, getattr(cause, "sqlstate", None), g.get("request_id"))
    if isinstance(exc, UnsafeDatabaseRole):
        return error_response(503, reason)  # retrying will not help until an operator acts
    return error_response(503, reason + "; retry shortly")


# A table, column, function or schema the code expects does not exist: the database is behind
# the code (the pipeline checks before each request, but its answer is cached for a few seconds
# and a hostless view may not ask).
_SCHEMA_SQLSTATES = frozenset({"42P01", "42703", "42883", "3F000"})


def _schema_not_ready_response():
    from core.readiness import schema_problems

    app_state().schema_cache.invalidate()
    try:
        problems = schema_problems()
    except Exception:  # noqa: BLE001 - the original error is the one to report
        rollback_quietly()
        return None
    if not problems:
        return None
    message = "not ready: " + "; ".join(problems.values())
    log.warning("%s request_id=%s", message, g.get("request_id"))
    return error_response(503, message)


def database_error_response(exc: BaseException):
    """The clean answer for an error raised by the database layer, or None when it is not one
    this module knows (a bug: the caller re-raises, and it is a 500). The session is rolled
    back first: nothing of the failed transaction is kept."""
    rollback_quietly()
    unavailable = database_unavailable_response(exc)
    if unavailable is not None or not isinstance(exc, DBAPIError):
        return unavailable
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _SCHEMA_SQLSTATES and (not_ready := _schema_not_ready_response()):
        return not_ready
    if sqlstate in _SQLSTATE_ANSWERS:
        status, message = _SQLSTATE_ANSWERS[sqlstate]
        log.warning("database refused the request: sqlstate=%s request_id=%s", sqlstate,
                    g.get("request_id"))
        return error_response(status, message)
    if sqlstate is None and isinstance(exc.orig, psycopg.DataError):
        # Refused by the driver before reaching the server (e.g. a NUL character in text).
        return error_response(422, "a value cannot be stored: text must not contain NUL "
                                   "(\\u0000) characters and numbers must be finite")
    return None


def _database_error(exc: DBAPIError | PoolTimeout | UnsafeDatabaseRole):
    response = database_error_response(exc)
    if response is None:
        raise exc
    return response


def _domain_error(exc: DomainError):
    return error_response(exc.status, exc.message, exc.errors, exc.headers)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(PoolTimeout, _database_error)
    app.register_error_handler(UnsafeDatabaseRole, _database_error)
