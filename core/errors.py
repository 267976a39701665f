"""Domain errors and the one place that turns them (and database errors) into HTTP answers.

Services raise these; they never know about HTTP. Every error body has flask-smorest's shape
``{"code", "status", "message", "errors"?}`` and never contains a stack trace or SQL.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from flask import Flask, g, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError

from core.extensions import db

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
    "57014": (503, "the query took too long and was cancelled"),
    "42501": (403, "not allowed on this data"),
}


def _database_error(exc: DBAPIError):
    db.session.rollback()
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate in _SQLSTATE_ANSWERS:
        status, message = _SQLSTATE_ANSWERS[sqlstate]
        log.warning("database refused the request: sqlstate=%s request_id=%s", sqlstate,
                    g.get("request_id"))
        return error_response(status, message)
    if sqlstate is None and isinstance(getattr(exc, "orig", None), psycopg.DataError):
        # Refused by the driver before reaching the server (e.g. a NUL character in text).
        return error_response(422, "a value cannot be stored: text must not contain NUL "
                                   "(\\u0000) characters and numbers must be finite")
    if isinstance(exc, OperationalError):
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return error_response(503, "the database is unavailable; retry shortly")
    raise exc


def _domain_error(exc: DomainError):
    return error_response(exc.status, exc.message, exc.errors, exc.headers)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(DBAPIError, _database_error)
