"""Limits on JSON request bodies: nesting depth and the length of number literals.

Python's json module has no such limits, and both ends fail badly: a body nested a few
thousand levels deep raises RecursionError, a 5,000-digit integer raises ValueError past
Python's int conversion limit -- neither is a JSON decode error, so they surfaced as 500s. A
body beyond a limit is answered **422** ``{"code": 422, ..., "message": "...", "errors":
{"json": ["..."]}}`` before the view runs, on every route that reads a JSON body (login
included). 422 rather than 413: the body is not too large in bytes (MAX_CONTENT_LENGTH is
that limit, answered 413), it is well-formed-looking JSON the API will not process.

Two parts:

- :class:`LimitedJSONProvider` is the app's JSON provider (``app.json``), so every
  ``request.get_json()`` parses within the limits; NaN and Infinity, which Python accepts and
  JSON does not have, are refused too. A breach raises :class:`JSONLimitError`, a ValueError,
  so ``get_json(silent=True)`` (the login log line) just sees no body.
- a before-request check parses a JSON body once through the provider. It is registered after
  the request pipeline (core.pipeline): the request id and login log lines exist first, and a
  caller without credentials gets 401 before its body is looked at. flask-smorest's argument
  parser (webargs) parses the body again with the standard json module, which is safe once
  this check has passed.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider

from core.errors import Unprocessable

MAX_DEPTH = 32  # objects and arrays; real bodies here nest 4 levels (a line's discount)
MAX_NUMBER_LENGTH = 100  # characters of one number literal, sign and exponent included


class JSONLimitError(ValueError):
    """A JSON text beyond one of this module's limits (a ValueError, as json errors are)."""


def _number_literal(convert):
    def parse(literal: str):
        if len(literal) > MAX_NUMBER_LENGTH:
            raise JSONLimitError(f"a JSON number is longer than {MAX_NUMBER_LENGTH} "
                                 "characters; send large or precise values as strings")
        return convert(literal)

    return parse


def _refuse_constant(name: str):
    raise JSONLimitError(f"{name} is not a JSON value")


def _check_depth(value: Any) -> None:
    # Iterative, so the check itself cannot recurse too deep.
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_DEPTH:
            raise JSONLimitError(f"JSON nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children
                       if isinstance(child, dict | list))


def loads_limited(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` within the limits; JSONLimitError beyond them."""
    kwargs.setdefault("parse_int", _number_literal(int))
    kwargs.setdefault("parse_float", _number_literal(float))
    kwargs.setdefault("parse_constant", _refuse_constant)
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        # The C scanner recurses once per level and gives up near the interpreter's limit.
        raise JSONLimitError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if isinstance(value, dict | list):
        _check_depth(value)
    return value


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's default JSON provider with :func:`loads_limited` for parsing."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_limited(s, **kwargs)


def _check_json_body() -> None:
    if request.routing_exception is not None or not request.is_json:
        return
    body = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 from werkzeug
    if not body:
        return
    try:
        current_app.json.loads(body)
    except JSONLimitError as error:
        raise Unprocessable(str(error), errors={"json": [str(error)]}) from None
    except ValueError:
        return  # malformed JSON: the argument parser answers 400 as it always has


def init_json_limits(app: Flask) -> None:
    """Parse JSON within the limits app-wide; refuse bodies beyond them before the view."""
    app.json = LimitedJSONProvider(app)
    app.before_request(_check_json_body)
