"""HTTP conventions: the Blueprint subclass every module uses, the request pipeline (request id,
tenant, identity, transaction, access log), module guards and pagination.

Decorators on a view, in this fixed order (outermost first)::

    @blp.arguments(...)         # flask-smorest: parse input
    @blp.response(...)          # flask-smorest: serialise output
    @blp.paginate(SQLPage)      # lists only
    @blp.requires_roles(...)    # or @blp.requires_platform
    def get(...): ...

The auth decorators also document 401/403 and the security scheme in OpenAPI.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import Page
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy import Select, event, func, select

from core.auth.identity import authenticate_request
from core.errors import (
    Forbidden,
    NotFound,
    Unauthorized,
    database_error_response,
    rollback_quietly,
)
from core.extensions import db
from core.rls import bind_tenant, unbind_tenant
from core.tenancy import PLATFORM, module_state, require_schema_ready, resolve_request_tenant

access_log = logging.getLogger("tenantry.access")

TENANT_SECURITY = [{"bearerAuth": []}, {"apiKeyAuth": []}]
PLATFORM_SECURITY = [{"platformBearer": []}]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Endpoints that answer on any host with no tenant and no credentials (liveness, docs).
_HOSTLESS_ATTR = "_tenantry_hostless"


def hostless(view):
    """Mark a view (function or MethodView class) as served before host resolution."""
    setattr(view, _HOSTLESS_ATTR, True)
    return view


# Hostless views need no database unless marked: probes, docs and metrics must answer while
# it is down or unmigrated. A hostless view that reads tables gets the schema check that
# every other route gets (503 naming what is missing), instead of a query on a missing table.
_NEEDS_SCHEMA_ATTR = "_tenantry_needs_schema"


def needs_schema(view):
    """Mark a hostless view that uses the database: the schema is checked before it runs."""
    setattr(view, _NEEDS_SCHEMA_ATTR, True)
    return view


# The credential check of ``requires_roles``/``requires_platform``, kept on the view method.
# functools.wraps copies it onto every outer decorator, so the pipeline can run it before
# flask-smorest parses the body: a caller without credentials gets 401, not 422.
_AUTH_CHECK_ATTR = "_tenantry_auth_check"


def _view_auth_check() -> Callable[[], None] | None:
    """The credential check of the view this request goes to, if it requires credentials."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    return getattr(method, _AUTH_CHECK_ATTR, None)


def _check_view_credentials() -> None:
    check = _view_auth_check()
    if check is not None:
        check()


# Login endpoints log a start and an end line with the final status whatever the outcome
# (runbook 000, "Troubleshooting auth regressions"), also when the host, the tenant's state or
# the body is refused before the view runs.
_LOGIN_ATTR = "_tenantry_login"
auth_log = logging.getLogger("tenantry.auth")
_UNSAFE_LOG_CHARS = re.compile(r"[^\w.@+-]")


def login_endpoint(label: str):
    """Mark a login view (MethodView class): ``<label> start``/``<label> end ... status=``."""

    def mark(view):
        setattr(view, _LOGIN_ATTR, label)
        return view

    return mark


def _login_label() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(getattr(view, "view_class", view), _LOGIN_ATTR, None)


def _login_email() -> str:
    # Raw client input going into a log line: only e-mail characters, bounded length.
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return _UNSAFE_LOG_CHARS.sub("?", email)[:254] if isinstance(email, str) else "-"


def _view_object():
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "view_class", view)


def _is_hostless() -> bool:
    if request.endpoint is None:
        return False
    if request.endpoint.startswith("api-docs.") or request.endpoint == "static":
        return True
    return bool(getattr(_view_object(), _HOSTLESS_ATTR, False))


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint with Tenantry's auth decorators."""

    def requires_roles(self, *roles: str, kinds: Iterable[str] = ("user", "api_key")):
        """Tenant identity (user JWT or API key) whose role is in ``roles``; else 401/403."""
        allowed_kinds = tuple(kinds)

        def check() -> None:
            identity = g.get("identity")
            # No credentials, or platform ones (another audience): not authenticated here.
            if identity is None or not identity.is_tenant:
                raise Unauthorized("tenant credentials required")
            # Valid tenant credentials of a kind this route does not take: not allowed.
            if identity.kind not in allowed_kinds:
                kind = "an API key" if identity.kind == "api_key" else "a user login"
                raise Forbidden(f"this route does not accept {kind}")
            if roles and identity.role not in roles:
                raise Forbidden(f"role '{identity.role}' may not do this; allowed: "
                                f"{', '.join(roles)}")

        def decorator(view: Callable):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                check()
                return view(*args, **kwargs)

            setattr(wrapper, _AUTH_CHECK_ATTR, check)
            return self._document_auth(wrapper, TENANT_SECURITY, roles)

        return decorator

    def requires_platform(self, view: Callable):
        """Platform admin JWT or BOOTSTRAP_TOKEN; else 401."""

        def check() -> None:
            identity = g.get("identity")
            if identity is None or not identity.is_platform:
                raise Unauthorized("platform credentials required")

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            check()
            return view(*args, **kwargs)

        setattr(wrapper, _AUTH_CHECK_ATTR, check)
        return self._document_auth(wrapper, PLATFORM_SECURITY, ())

    # ETags (docs/plugin-authoring.md): a stale If-Match answers 412; a missing one is allowed
    # (no 428), so clients that do not track ETags can still update.
    def _check_precondition(self):
        return None

    def check_etag(self, etag_data, etag_schema=None):
        if not request.if_match:
            return None
        return super().check_etag(etag_data, etag_schema)

    def _verify_check_etag(self):
        # Without If-Match there is nothing to check, and nothing to warn about.
        if request.if_match:
            super()._verify_check_etag()

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        doc.get("responses", {}).pop(428, None)
        parameters = doc.get("parameters", [])
        if "IF_MATCH" in parameters:
            parameters[parameters.index("IF_MATCH")] = {
                "name": "If-Match", "in": "header", "required": False,
                "schema": {"type": "string"},
                "description": "ETag from a GET; a stale one answers 412"}
        return doc

    def error(self, status: int, description: str):
        """Document an error answer of a view (flask-smorest's error body)."""
        return self.alt_response(status, schema=ErrorSchema, description=description)

    def _document_auth(self, view, security, roles) -> Callable:
        # flask-smorest's doc decorators return a new wrapper carrying the documentation (the
        # wrapped function is left untouched), so the result must be what the view becomes.
        doc = {"security": security}
        if roles:
            doc["description"] = "Roles: " + ", ".join(roles) + "."
        view = self.doc(**doc)(view)
        view = self.alt_response(401, description="Missing or invalid credentials")(view)
        return self.alt_response(403, description="Not allowed for this role, tenant or "
                                                  "module")(view)


# --------------------------------------------------------------------------- guards

# What a registered blueprint needs before its views run (see core.routing).
GUARD_PLATFORM = "platform"  # PLATFORM_HOSTS only (404 elsewhere)
GUARD_TENANT = "tenant"  # a tenant from the host or an API key (404 otherwise)
GUARD_NONE = "none"


def _guard_blueprint() -> None:
    guards = current_app.extensions["tenantry_guards"]
    guard = guards.get(request.blueprint or "", GUARD_NONE)
    if guard == GUARD_NONE:
        return
    if guard == GUARD_PLATFORM:
        if g.host.kind != PLATFORM:
            raise NotFound("not found")
        return
    if g.tenant is None:
        if g.host.kind == PLATFORM and g.identity is None and _view_auth_check() is not None:
            # ClinCore clients call the platform host with X-API-Key naming their tenant.
            raise Unauthorized("credentials required: send X-API-Key (or use the tenant's host)")
        raise NotFound("this API is served on a tenant's host, or with an API key")
    if guard == GUARD_TENANT:
        return
    # A module's blueprint: credentials first (nothing about the tenant leaks without them),
    # then the module toggle.
    if g.identity is None:
        raise Unauthorized("credentials required")
    if not module_state(g.tenant.id, guard).enabled:
        raise Forbidden(f"module '{guard}' is not enabled for this tenant")
    require_schema_ready(guard)


# --------------------------------------------------------------------------- pipeline


def _start_request():
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.login = _login_label()
    g.login_email = "-"
    if g.login:
        # Read once: a body that is too large raises 413 here, which the error handler
        # answers; reading it again after the request would raise outside any handler.
        g.login_email = _login_email()
        auth_log.info("%s start host=%s email=%s", g.login,
                      _UNSAFE_LOG_CHARS.sub("?", request.host)[:255], g.login_email)
    g.tenant = None
    g.identity = None
    g.pop(_COMMIT_CALLBACKS, None)
    g.pop(_COMMITTED, None)
    # Start every request unscoped, whatever this thread's context held before (gunicorn's
    # sync workers reuse threads); teardown restores the value from before the request.
    g.tenant_token = bind_tenant(None)
    if _is_hostless():
        if getattr(_view_object(), _NEEDS_SCHEMA_ATTR, False):
            require_schema_ready()
        return None  # probes and docs: no database at all
    # Before the first query that needs a table: an unmigrated, partly migrated or unreadable
    # schema answers 503 naming the command that fixes it, on every route (cached per TTL).
    require_schema_ready()
    resolve_request_tenant()
    authenticate_request()
    if g.tenant is not None:
        bind_tenant(g.tenant.id)
    _guard_blueprint()
    _check_view_credentials()
    if g.tenant is not None and g.identity is not None and g.identity.is_tenant:
        current_app.extensions["tenantry"].hook.tenantry_request_authenticated(
            tenant_id=g.tenant.id, identity=g.identity, endpoint=request.endpoint or "",
            method=request.method)
    return None


# The request's final commit. What runs after the response is built must never turn work
# that is committed into an error answer, and must never answer success for work that is not:
# - work left open by the view (and what ``before_request_commit`` adds, e.g. usage counting)
#   commits here; if that fails and nothing of the request was committed before, the answer
#   becomes the 503 of a database that could not answer (nothing was kept, a retry is safe);
# - if the view had already committed its work, a later failure (counting after it) is logged
#   and the view's answer stands.
_COMMIT_CALLBACKS = "tenantry_before_commit"
_COMMITTED = "tenantry_committed"
commit_log = logging.getLogger("tenantry.commit")


def before_request_commit(callback: Callable[[Response], None]) -> None:
    """Run ``callback(response)`` in the request's transaction just before the pipeline commits
    it, for answers below 400 only (e.g. usage counting). A failure there is a failure of the
    commit: see above."""
    g.setdefault(_COMMIT_CALLBACKS, []).append(callback)


def _note_commit(session) -> None:
    if has_request_context():
        g.setdefault(_COMMITTED, True)


def _commit_request(response: Response) -> Response:
    callbacks = g.pop(_COMMIT_CALLBACKS, [])
    if response.status_code >= 400:
        return response  # nothing of a failed request is kept: teardown rolls back
    try:
        for callback in callbacks:
            callback(response)
        if db.session().in_transaction():
            db.session.commit()
    except Exception as exc:
        rollback_quietly()
        if g.get(_COMMITTED):
            commit_log.exception("the request's work is committed; finishing it failed "
                                 "afterwards (%s), the answer stands: request_id=%s",
                                 type(exc).__name__, g.get("request_id"))
            return response
        answer = database_error_response(exc)
        if answer is None:
            raise
        return answer
    return response


def _finish_request(response):
    response = _commit_request(response)
    response.headers["X-Request-ID"] = g.get("request_id", "")
    tenant = g.get("tenant")
    if g.get("login"):
        auth_log.info("%s end host=%s tenant=%s email=%s status=%s", g.login,
                      _UNSAFE_LOG_CHARS.sub("?", request.host)[:255],
                      tenant.slug if tenant else "-", g.get("login_email", "-"),
                      response.status_code)
    duration_ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2)
    fields = {"request_id": g.get("request_id"), "tenant": tenant.slug if tenant else "-",
              "method": request.method, "path": request.path,
              "status": response.status_code, "duration_ms": duration_ms}
    access_log.info(" ".join(f"{k}={v}" for k, v in fields.items()), extra={"fields": fields})
    return response


def _teardown(exc):
    token = g.pop("tenant_token", None)
    if token is not None:
        unbind_tenant(token)


def init_request_pipeline(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_teardown)
    # Once per process (create_app may run many times in tests), as core.rls's listeners.
    if not event.contains(db.session, "after_commit", _note_commit):
        event.listen(db.session, "after_commit", _note_commit)


# --------------------------------------------------------------------------- pagination


class SQLPage(Page):
    """flask-smorest pager for a SQLAlchemy ``Select`` (limit/offset plus a count).

    One round trip: the page's rows carry the total as an uncorrelated scalar subquery, which
    PostgreSQL runs once. Only a page with no rows (past the end, or an empty list) needs the
    count on its own. flask-smorest asks for ``item_count`` first, then ``items``.
    """

    _rows: list | None = None

    def _count_statement(self) -> Select:
        statement: Select = self.collection
        return select(func.count()).select_from(statement.order_by(None).subquery())

    def _fetch(self) -> list:
        if self._rows is None:
            statement: Select = self.collection
            total = self._count_statement().correlate(None).scalar_subquery()
            self._rows = db.session.execute(
                statement.add_columns(total.label("tenantry_total"))
                .limit(self.page_params.page_size).offset(self.page_params.first_item)).all()
        return self._rows

    @property
    def items(self):
        return [row[0] for row in self._fetch()]

    @property
    def item_count(self):
        rows = self._fetch()
        if rows:
            return rows[0][-1]
        return db.session.execute(self._count_statement()).scalar_one()
