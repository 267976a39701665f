"""The request pipeline: what runs around every view, in order (docs/architecture.md, "The
request path").

``_start_request``: request id, login start line, no tenant bound; a login POST that would find
no password-hashing slot is refused (503) before anything else; hostless views stop there;
then the schema check, host → tenant, credentials → identity, the tenant bound to the
transaction, the rate limits (``core.rate_limits``), the blueprint's guard (``core.guards``),
the view's credential check and the ``tenantry_request_authenticated`` hook.
``_finish_request``: the request's one commit (``_commit_request`` with the
``before_request_commit`` callbacks), the ``after_request_commit`` work, the rate-limit
headers, ``X-Request-ID``, the login end line and the access line (``core.request_log``).
``_teardown``: the tenant context restored.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, request

from core.app_state import app_state
from core.auth.identity import authenticate_request
from core.auth.passwords import refuse_login_when_busy
from core.blueprint import check_view_credentials, is_hostless, login_label, view_needs_schema
from core.console import authenticate_console
from core.errors import database_error_response, rollback_quietly
from core.extensions import db
from core.guards import guard_blueprint
from core.rate_limits import add_rate_limit_headers, check_rate_limits, count_request
from core.request_log import log_login_start, log_request_end
from core.rls import bind_tenant, unbind_tenant
from core.tenancy import (
    confirm_request_tenant,
    require_schema_ready,
    resolve_request_tenant,
    tenancy,
)

log = logging.getLogger("tenantry.pipeline")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _start_request():
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    login = login_label()
    log_login_start(login)
    g.tenant = None
    g.identity = None
    g.pop(_COMMIT_CALLBACKS, None)
    g.pop(_KEEP_ON_ERROR, None)
    g.pop(_AFTER_COMMIT, None)
    # Start every request unscoped, whatever this thread's context held before (gunicorn's
    # sync workers reuse threads); teardown restores the value from before the request.
    g.tenant_token = bind_tenant(None)
    if login is not None and request.method == "POST":
        # A login flood is shed here, before the tenant, the scope or the rate-limit count:
        # with every hashing slot busy the login could only get 503 later, after a few
        # round trips (docs/benchmarks.md, "Login abuse").
        refuse_login_when_busy()
    if is_hostless():
        if view_needs_schema():
            require_schema_ready()
        return None  # probes and docs: no database at all
    # Before the first query that needs a table: an unmigrated, partly migrated or unreadable
    # schema answers 503 naming the command that fixes it, on every route (cached per TTL).
    require_schema_ready()
    resolve_request_tenant()
    # Scope the transaction to the host's tenant before the credentials are checked: the one
    # message that scopes it also reads the tenant's state_version (the cached tenant and
    # toggles are confirmed, an inactive tenant refused) and the identity's look-ups then run
    # in it, instead of in an unscoped transaction re-scoped afterwards (one round trip less).
    bound = _bind_and_confirm()
    authenticate_request()
    if g.tenant is not bound:  # an API key on a platform host names its tenant
        _bind_and_confirm()
    authenticate_console()  # console pages: the session cookie, when no API credentials
    check_rate_limits()  # 429 before any guard or view; anonymous calls count per address
    guard_blueprint()
    check_view_credentials()
    if g.tenant is not None and g.identity is not None and g.identity.is_tenant:
        app_state().registry.hook.tenantry_request_authenticated(
            tenant_id=g.tenant.id, identity=g.identity, endpoint=request.endpoint or "",
            method=request.method)
    return None


def _bind_and_confirm():
    """Bind ``g.tenant`` (if any) to the transaction and confirm its cached state; returns it."""
    if g.tenant is not None:
        tenancy().bind(g.tenant)  # uncached toggles ride in the message that scopes it
        confirm_request_tenant()  # the cached tenant and toggles against its state_version
    return g.tenant


# The request's one commit (docs/architecture.md, "One unit of work"). Views and services
# flush, never commit (tests/core/test_unit_of_work.py): the work, the stored idempotent
# answer, usage counters and last-used times commit here together, or not at all. A commit
# that fails answers the 503 (or 409) of the failure, so a success is never answered for work
# that was not kept, and nothing is half-kept: a retry is safe.
_COMMIT_CALLBACKS = "tenantry_before_commit"
_KEEP_ON_ERROR = "tenantry_keep_on_error"
_AFTER_COMMIT = "tenantry_after_commit"


def before_request_commit(callback: Callable[[Response], None]) -> None:
    """Run ``callback(response)`` in the request's transaction just before the pipeline commits
    it, for answers below 400 only (e.g. usage counting). A failure there is a failure of the
    commit: see above."""
    g.setdefault(_COMMIT_CALLBACKS, []).append(callback)


def after_request_commit(callback: Callable[[Response], Response | None]) -> None:
    """Run ``callback(response)`` once the request's transaction is committed (answers below
    400 only): for work that must not run inside it, such as telling an outside service about
    what was committed (POS fiscal registration, plugins/pos/fiscal.py). It runs in new
    transactions of its own, which it commits; it may return a response to send instead. What
    it raises is logged and the committed answer stands: the work it was told about is kept."""
    g.setdefault(_AFTER_COMMIT, []).append(callback)


def _after_commit(response: Response) -> Response:
    for callback in g.pop(_AFTER_COMMIT, []):
        try:
            response = callback(response) or response
        except Exception:  # the answer's work is committed; this is extra work
            log.exception("after-commit work failed (the request's work is kept)")
            rollback_quietly()
    return response


def keep_work_on_error() -> None:
    """Commit this request's transaction even though it answers an error: for the one kind of
    work that must outlive a refusal, a failed login's throttle counter (core/auth/throttle.py).
    Whoever calls it must have written nothing else that a refusal should undo."""
    g.setdefault(_KEEP_ON_ERROR, True)


def _commit_request(response: Response) -> Response:
    callbacks = g.pop(_COMMIT_CALLBACKS, [])
    if response.status_code >= 400 and not g.pop(_KEEP_ON_ERROR, False):
        return response  # nothing of a failed request is kept: teardown rolls back
    try:
        if response.status_code < 400:
            for callback in callbacks:
                callback(response)
        if db.session().in_transaction():
            db.session.commit()
    except Exception as exc:
        rollback_quietly()
        answer = database_error_response(exc)
        if answer is None:
            raise
        return answer
    return response


def _finish_request(response):
    response = _commit_request(response)
    if response.status_code < 400:
        response = _after_commit(response)
    count_request()  # after the commit: the request holds no connection while it counts
    add_rate_limit_headers(response)
    response.headers["X-Request-ID"] = g.get("request_id", "")
    log_request_end(response)
    return response


def _teardown(exc):
    token = g.pop("tenant_token", None)
    if token is not None:
        unbind_tenant(token)


def init_request_pipeline(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_teardown)
