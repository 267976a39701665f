"""Console sign-in: a cookie holding a random token, a row holding only its keyed digest.

Tenant users' sessions live in ``console_sessions`` (a tenant table: RLS confines the look-up
to the host's tenant); platform admins' in ``platform_console_sessions``. A session ends at its
expiry (CONSOLE_SESSION_HOURS), at logout (the row is deleted, so every worker sees it at
once), and for a tenant user also when the account is deactivated or its password changes
(the user's ``token_version`` moves on). The role is read from ``users`` on every request, so a
role change applies to the next page.

*Why not a signed cookie alone:* logout must end the session everywhere, not just forget the
cookie in one browser. *Why not the JWT in the browser:* no token in script-readable storage;
the cookie is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` outside development and tests.
*Why an HMAC keyed by JWT_SECRET, not a plain SHA-256:* the app role may insert session rows,
so SQL reaching the database through the app could otherwise plant a row for a token it chose
and sign in as any platform admin; without the secret (never in the database) it cannot compute
the digest of its token. Rotating JWT_SECRET therefore signs every console user out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from flask import Response, current_app, g, request
from sqlalchemy import delete, select

from core.auth.identity import PLATFORM_ADMIN, USER, Identity
from core.extensions import db
from core.models import ConsoleSession, PlatformConsoleSession, PlatformUser, User

TENANT_COOKIE = "tenantry_console"
PLATFORM_COOKIE = "tenantry_platform_console"


def _digest(token: str) -> bytes:
    key = current_app.config["JWT_SECRET"].encode()
    return hmac.new(key, token.encode(), hashlib.sha256).digest()


def _expiry() -> datetime:
    return datetime.now(UTC) + timedelta(hours=current_app.config["CONSOLE_SESSION_HOURS"])


def cookie_name(platform: bool) -> str:
    return PLATFORM_COOKIE if platform else TENANT_COOKIE


def start_tenant_session(tenant_id: uuid.UUID, user: User) -> str:
    """A new session for ``user`` (flushed); returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    db.session.add(ConsoleSession(tenant_id=tenant_id, token_hash=_digest(token),
                                  user_id=user.id, token_version=user.token_version,
                                  expires_at=_expiry()))
    db.session.flush()
    return token


def start_platform_session(user: PlatformUser) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(PlatformConsoleSession(token_hash=_digest(token), platform_user_id=user.id,
                                          expires_at=_expiry()))
    db.session.flush()
    return token


def end_session(platform: bool) -> None:
    """Delete the session of this request's cookie (logout); flushed, committed by the
    request."""
    token = request.cookies.get(cookie_name(platform))
    if not token:
        return
    model = PlatformConsoleSession if platform else ConsoleSession
    db.session.execute(delete(model).where(model.token_hash == _digest(token)))


def end_other_platform_sessions(platform_user_id: uuid.UUID) -> None:
    """Sign a platform admin out everywhere but in this request's session (after a password
    change: platform sessions carry no password version)."""
    current = _digest(request.cookies.get(PLATFORM_COOKIE, ""))
    db.session.execute(delete(PlatformConsoleSession).where(
        PlatformConsoleSession.platform_user_id == platform_user_id,
        PlatformConsoleSession.token_hash != current))


def _tenant_identity(token: str) -> Identity | None:
    row = db.session.execute(
        select(User.id, User.role, User.email, User.active, User.token_version,
               ConsoleSession.token_version.label("session_version"))
        .join(User, (User.tenant_id == ConsoleSession.tenant_id)
              & (User.id == ConsoleSession.user_id))
        .where(ConsoleSession.tenant_id == g.tenant.id,
               ConsoleSession.token_hash == _digest(token),
               ConsoleSession.expires_at > datetime.now(UTC))).first()
    if row is None or not row.active or row.token_version != row.session_version:
        return None
    return Identity(USER, str(row.id), row.role, g.tenant.id, label=row.email)


def _platform_identity(token: str) -> Identity | None:
    row = db.session.execute(
        select(PlatformUser.id, PlatformUser.email, PlatformUser.active)
        .join(PlatformConsoleSession, PlatformConsoleSession.platform_user_id == PlatformUser.id)
        .where(PlatformConsoleSession.token_hash == _digest(token),
               PlatformConsoleSession.expires_at > datetime.now(UTC))).first()
    if row is None or not row.active:
        return None
    return Identity(PLATFORM_ADMIN, str(row.id), "platform", label=row.email)


def session_identity(platform: bool) -> Identity | None:
    """The identity of this request's console cookie, or None (no cookie, unknown, expired,
    logged out, or the account changed since)."""
    token = request.cookies.get(cookie_name(platform))
    if not token or len(token) > 100:
        return None
    if platform:
        return _platform_identity(token)
    return _tenant_identity(token) if g.tenant is not None else None


def set_session_cookie(response: Response, token: str, platform: bool) -> None:
    response.set_cookie(
        cookie_name(platform), token, max_age=current_app.config["CONSOLE_SESSION_HOURS"] * 3600,
        httponly=True, samesite="Lax", secure=secure_cookies(), path="/")


def clear_session_cookie(response: Response, platform: bool) -> None:
    response.delete_cookie(cookie_name(platform), path="/", httponly=True, samesite="Lax",
                           secure=secure_cookies())


def secure_cookies() -> bool:
    """``Secure`` cookies everywhere but development and tests (plain http on localhost)."""
    return current_app.config["TENANTRY_ENV"] == "production"


def session_secret(purpose: str) -> bytes:
    """A key for ``purpose`` derived from JWT_SECRET (CSRF tokens), so no new secret to run."""
    return hmac.new(current_app.config["JWT_SECRET"].encode(), purpose.encode(),
                    hashlib.sha256).digest()
