"""Browser security of the console: CSRF tokens on every state-changing request and the
response headers of every page (a strict Content-Security-Policy with no inline script).

CSRF: a signed double-submit token. A random ``tenantry_csrf`` cookie (HttpOnly,
SameSite=Strict) is set on the first page; forms carry ``HMAC(key, cookie | session cookie)``
in a hidden ``csrf_token`` field (or an ``X-CSRF-Token`` header). A POST whose token does not
match answers the 403 page before the view runs. Binding the token to the session cookie means
a token seen before login is worthless after it; the HMAC means a cookie an attacker plants on
a sibling subdomain cannot be turned into a valid token without the server's key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, current_app, g, request

from core.console.sessions import secure_cookies, session_secret
from core.errors import Forbidden

CSRF_COOKIE = "tenantry_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
))


def _csrf_cookie() -> str:
    value = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(value) <= 100:
        return value
    if "new_csrf_cookie" not in g:
        g.new_csrf_cookie = secrets.token_urlsafe(32)
    return g.new_csrf_cookie


def csrf_token(session_cookie: str | None) -> str:
    """The token forms of this page carry (bound to the CSRF cookie and the session)."""
    message = f"{_csrf_cookie()}|{session_cookie or ''}".encode()
    return hmac.new(session_secret("console-csrf"), message, hashlib.sha256).hexdigest()


def require_csrf(session_cookie: str | None) -> None:
    """Refuse a state-changing request without the page's token (403, nothing done)."""
    if request.method in _SAFE_METHODS:
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if CSRF_COOKIE not in request.cookies or not hmac.compare_digest(
            sent.encode(), csrf_token(session_cookie).encode()):
        raise Forbidden("the form has expired or did not come from this site; reload the "
                        "page and try again")


def secure_response(response: Response) -> Response:
    """The headers of every console answer; sets the CSRF cookie on first use."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    if "new_csrf_cookie" in g:
        response.set_cookie(CSRF_COOKIE, g.pop("new_csrf_cookie"), httponly=True,
                            samesite="Strict", secure=secure_cookies(), path="/",
                            max_age=current_app.config["CONSOLE_SESSION_HOURS"] * 3600)
    return response
