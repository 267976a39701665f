"""Rendering a console page: the layout's context (who is signed in, the navigation this
person may see, the CSRF token, a one-time notice) and the form helpers every page uses.

Pages call ``render_page(template, title=..., **context)``; forms are read with
``read_form(schema)``, which runs the same marshmallow schema as the module's JSON API, so a
form and an API call are validated alike. After a successful POST a page answers
``redirect_with_notice(url, text)`` (post/redirect/get: a reload never repeats the action).
Lists show 50 rows a page with ``page_of(statement)``; forms with rows of lines (an order's
lines) name their inputs ``<list>-<n>-<field>`` and ``read_form`` loads them into the schema's
``List(Nested(...))`` field.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Response, g, redirect, render_template, request
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import Select, func, select

from core.app_state import app_state
from core.console.security import CSRF_FIELD, csrf_token
from core.console.sessions import cookie_name
from core.extensions import db
from core.models import User
from core.tenancy import module_state

NOTICE_COOKIE = "tenantry_notice"
PAGE_SIZE = 50
MAX_FORM_LINES = 200  # rows of lines a form may post (the schemas cap the lines they accept)


def is_platform_page() -> bool:
    console = app_state().console
    return bool(console and console.blueprints.get(request.blueprint or ""))


def _navigation(platform: bool) -> list[dict[str, Any]]:
    identity = g.get("identity")
    if identity is None:
        return []
    entries = []
    for module_key, entry in app_state().console.nav:
        if platform != (module_key == "platform"):
            continue
        if not platform:
            if not identity.is_tenant or identity.role not in entry.roles:
                continue
            if module_key is not None and not module_state(g.tenant.id, module_key).enabled:
                continue
        entries.append({"label": entry.label, "endpoint": entry.endpoint, "order": entry.order})
    return sorted(entries, key=lambda item: (item["order"], item["label"]))


def render_page(template: str, *, title: str, status: int = 200, bare: bool = False,
                **context: Any):
    """The page as an HTML response. ``bare`` leaves the navigation out (it reads module
    toggles: not while the database is failing)."""
    platform = is_platform_page()
    notice = request.cookies.get(NOTICE_COOKIE)
    body = render_template(
        template, title=title, identity=g.get("identity"), tenant=g.get("tenant"),
        platform=platform, navigation=[] if bare else _navigation(platform), notice=notice,
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(request.cookies.get(cookie_name(platform))), **context)
    response = Response(body, status=status, mimetype="text/html")
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path="/")
    return response


def redirect_with_notice(url: str, notice: str | None = None):
    response = redirect(url, code=303)
    if notice:
        response.set_cookie(NOTICE_COOKIE, notice[:300], max_age=60, httponly=True,
                            samesite="Strict", path="/")
    return response


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to after login; anything else (another host, a scheme,
    ``//evil``) falls back to ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


def page_of(statement: Select, size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of ``statement``'s rows, the page asked by ``?page=`` (out of range: the
    nearest page): ``{"rows", "page", "pages", "total"}`` for the ``pager`` macro."""
    total = db.session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    pages = max(1, -(-total // size))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    rows = db.session.execute(statement.limit(size).offset((page - 1) * size)).all()
    # A select of one entity gives the entity; a select of several columns gives the rows.
    if rows and len(rows[0]) == 1:
        rows = [row[0] for row in rows]
    return {"rows": rows, "page": page, "pages": pages, "total": total}


def form_lines(key: str, names: list[str] | tuple[str, ...], source: Any = None
               ) -> list[dict[str, str]]:
    """The filled rows of a lines table (inputs ``<key>-<n>-<name>``), in order; rows left
    entirely blank are dropped, so row ``i`` here is line ``i`` of the schema's errors."""
    source = request.form if source is None else source
    pattern = re.compile(rf"{re.escape(key)}-(\d+)-")
    numbers = sorted({int(match.group(1)) for name in source
                      if (match := pattern.match(name)) and int(match.group(1)) < MAX_FORM_LINES})
    rows = []
    for number in numbers:
        row = {name: source.get(f"{key}-{number}-{name}", "").strip() for name in names}
        if any(row.values()):
            rows.append(row)
    return rows


def field_errors(errors: dict[str, Any]) -> dict[str, Any]:
    """Errors keyed by input name: a nested list's ``{"lines": {0: {"quantity": [...]}}}``
    becomes ``{"lines-0-quantity": [...]}`` (what the ``field`` macro looks up); messages
    about a list as a whole stay under its own name."""
    flat: dict[str, Any] = {}
    for name, messages in errors.items():
        if isinstance(messages, dict):
            for index, inner in messages.items():
                if isinstance(inner, dict):
                    for sub, text in inner.items():
                        flat[f"{name}-{index}-{sub}"] = text
                else:
                    flat.setdefault(name, []).extend(
                        inner if isinstance(inner, list) else [inner])
        else:
            flat[name] = messages
    return flat


def read_form(schema: Schema, source: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data, errors) of the posted form loaded through ``schema``. Empty inputs count as
    absent (an optional field left blank is not an error); list fields read every value; a
    list of nested rows reads the ``form_lines`` of its name. Errors are ``field_errors``."""
    source = request.form if source is None else source
    raw: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            inner = field.inner.schema.fields
            rows = form_lines(key, [f.data_key or n for n, f in inner.items()
                                    if not f.dump_only], source)
            if rows:
                raw[key] = [{k: v for k, v in row.items() if v != ""} for row in rows]
        elif isinstance(field, fields.List):
            values = [value for value in source.getlist(key) if value != ""]
            if values:
                raw[key] = values
        elif isinstance(field, fields.Boolean):
            # A checkbox follows a hidden input of the same name with "0": the last value
            # wins, and a form without the input leaves the field out.
            if key in source:
                raw[key] = source.getlist(key)[-1] not in ("", "0", "false", "off")
        else:
            value = source.get(key, "")
            if value != "":
                raw[key] = value.strip() if isinstance(value, str) else value
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        return {}, field_errors(messages)


def uuid_arg(name: str) -> uuid.UUID | None:
    """The query-string argument ``name`` as a UUID, or None when absent or malformed (a list
    filter that is not an id filters nothing rather than failing)."""
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


def actor_names(actors: Iterable[str]) -> dict[str, str]:
    """``user:<id>`` actors (``created_by`` columns) by their e-mail, in one query; other actors
    (API keys, commands) are left as stored."""
    ids = set()
    for actor in actors:
        kind, _, subject = actor.partition(":")
        if kind == "user":
            with contextlib.suppress(ValueError):
                ids.add(uuid.UUID(subject))
    if not ids:
        return {}
    return {f"user:{user_id}": email for user_id, email in db.session.execute(
        select(User.id, User.email).where(User.id.in_(ids))).all()}
