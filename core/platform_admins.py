"""Platform admins: create one, set a password, list them, change one's own password, and the
first owner that ``migrate-all`` creates from FIRST_OWNER_EMAIL / FIRST_OWNER_PASSWORD.

Services flush, never commit. ``create_admin`` and ``set_password`` take the session to write
with: the app role may only read ``platform_users``, so the operator commands pass an owner-role
session (core/owner_session.py); an admin's own password change goes through the SECURITY
DEFINER function ``tenantry_change_platform_password``. Passwords are stored only as argon2id
hashes and never appear in a return value, a message or a log line. A platform JWT carries no
password version (the table has none), so tokens issued before a password change stay valid
until they expire (JWT_TTL_SECONDS).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.auth.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    hashing_slot,
    verify_password,
)
from core.auth.throttle import LoginAttempt
from core.errors import Conflict, NotFound, Unauthorized, Unprocessable
from core.extensions import db
from core.models import PlatformUser

EMAIL_MAX_LENGTH = 254


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed e-mail; 422 ``{"email": [...]}`` when it cannot be one."""
    text = (email or "").strip().lower()
    local, _, domain = text.partition("@")
    if not local or not domain or len(text) > EMAIL_MAX_LENGTH or any(c.isspace() for c in text):
        raise Unprocessable("invalid e-mail address", {"email": ["must be an e-mail address"]})
    return text


def check_password_rules(password: str, field: str = "password") -> None:
    if not MIN_LENGTH <= len(password or "") <= MAX_LENGTH:
        raise Unprocessable("invalid password", {
            field: [f"must be {MIN_LENGTH} to {MAX_LENGTH} characters"]})


def _by_email(session: Session, email: str) -> PlatformUser | None:
    return session.execute(select(PlatformUser).where(
        PlatformUser.email == normalise_email(email))).scalar_one_or_none()


def create_admin(session: Session, email: str, password: str) -> PlatformUser:
    """Add a platform admin; ``session`` must be the owner role's (core/owner_session.py)."""
    email = normalise_email(email)
    check_password_rules(password)
    if _by_email(session, email) is not None:
        raise Conflict(f"platform admin {email} exists already",
                       {"email": ["exists already"]})
    admin = PlatformUser(id=uuid.uuid4(), email=email, password_hash=hash_password(password))
    session.add(admin)
    session.flush()
    return admin


def set_password(session: Session, email: str, password: str) -> PlatformUser:
    """An operator sets an admin's password (the admin need not know the old one);
    ``session`` must be the owner role's."""
    check_password_rules(password)
    admin = _by_email(session, email)
    if admin is None:
        raise NotFound(f"no platform admin {normalise_email(email)}")
    admin.password_hash = hash_password(password)
    session.flush()
    return admin


def list_admins() -> list[PlatformUser]:
    return list(db.session.execute(select(PlatformUser).order_by(PlatformUser.email)).scalars())


def change_own_password(admin_id: uuid.UUID, current_password: str,
                        new_password: str) -> PlatformUser:
    """An admin replaces their own password, proving they know the current one.

    A wrong current password counts as a failed login of that account (core/auth/throttle.py), so
    this endpoint is no way round the login throttle for someone holding a stolen token.
    """
    admin = db.session.get(PlatformUser, admin_id)
    if admin is None or not admin.active:
        raise Unauthorized("platform account is unknown or inactive")
    attempt = LoginAttempt("platform", admin.email)
    with hashing_slot():  # taken before the throttle's query, as a login does
        attempt.check()
        if not verify_password(admin.password_hash, current_password):
            attempt.failed()
            raise Unprocessable("the current password is wrong",
                                {"current_password": ["does not match"]})
    check_password_rules(new_password, "new_password")
    if new_password == current_password:
        raise Unprocessable("the new password is the current one",
                            {"new_password": ["must differ from the current password"]})
    # Compare-and-set through the SECURITY DEFINER function: the app role cannot UPDATE the
    # table, and the function changes one active admin's hash only when the caller names the
    # hash it replaces (a blind injection cannot guess it).
    changed = db.session.execute(
        text("SELECT tenantry_change_platform_password(:id, :old, :new)"),
        {"id": admin.id, "old": admin.password_hash, "new": hash_password(new_password)},
    ).scalar()
    if not changed:
        raise Conflict("the password changed meanwhile; sign in again",
                       {"current_password": ["changed meanwhile"]})
    db.session.expire(admin)
    return admin


def seed_first_owner(connection, config: Mapping[str, Any],
                     echo: Callable[[str], None]) -> None:
    """``migrate-all``: create FIRST_OWNER_EMAIL with FIRST_OWNER_PASSWORD if it does not exist.

    An existing owner's password is never overwritten (it may have been changed on purpose);
    when it differs from FIRST_OWNER_PASSWORD the operator is told so, and how to rotate.
    """
    email, password = config.get("FIRST_OWNER_EMAIL"), config.get("FIRST_OWNER_PASSWORD")
    if not email or not password:
        return
    stored = connection.execute(select(PlatformUser.password_hash).where(
        PlatformUser.email == email)).scalar()
    if stored is None:
        now = datetime.now(UTC)
        connection.execute(insert(PlatformUser).values(
            id=uuid.uuid4(), email=email, password_hash=hash_password(password),
            created_at=now, updated_at=now))
        echo(f"platform owner {email} created")
    elif not verify_password(stored, password):
        echo(f"warning: platform owner {email} exists and its password is not "
             "FIRST_OWNER_PASSWORD; the stored password was kept (migrate-all never overwrites "
             "it). To make FIRST_OWNER_PASSWORD the password: tenantry platform-admins "
             f"set-password {email} --password-env FIRST_OWNER_PASSWORD")
