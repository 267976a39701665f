"""What a request writes to the log: the login start and end lines and the access line.

Login endpoints (``core.blueprint.login_endpoint``) log ``<label> start`` before anything can
refuse the request and ``<label> end`` with the final status whatever the outcome (runbook 000,
"Troubleshooting auth regressions"): host and e-mail, never the password. Every request ends
with one access line (request id, tenant, method, path, status, duration). Raw client input is
reduced to safe characters and a bounded length before it reaches a log line.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Response, g, request

access_log = logging.getLogger("tenantry.access")
auth_log = logging.getLogger("tenantry.auth")
_UNSAFE_LOG_CHARS = re.compile(r"[^\w.@+-]")


def _login_email() -> str:
    # Raw client input going into a log line: only e-mail characters, bounded length.
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else request.form.get("email")
    return _UNSAFE_LOG_CHARS.sub("?", email)[:254] if isinstance(email, str) else "-"


def log_login_start(label: str | None) -> None:
    """Remember the login label and e-mail on ``g`` and log the start line of a login."""
    g.login = label
    g.login_email = "-"
    if g.login:
        # Read once: a body that is too large raises 413 here, which the error handler
        # answers; reading it again after the request would raise outside any handler.
        g.login_email = _login_email()
        auth_log.info("%s start host=%s email=%s", g.login,
                      _UNSAFE_LOG_CHARS.sub("?", request.host)[:255], g.login_email)


def log_request_end(response: Response) -> None:
    """The login end line (for logins) and the access line, with the final status."""
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
