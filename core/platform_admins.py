"""Platform admins: create one, set a password, list them, change one's own password, and the
first owner that ``migrate-all`` creates from FIRST_OWNER_EMAIL / FIRST_OWNER_PASSWORD.

Services flush, never commit. Passwords are stored only as argon2id hashes and never appear in
a return value, a message or a log line. A platform JWT carries no password version (the table
has none), so tokens issued before a password change stay valid until they expire
(JWT_TTL_SECONDS).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from core.auth.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, verify_password
from core.auth.throttle import check_allowed, record_failure, throttle_key
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


def _by_email(email: str) -> PlatformUser | None:
    return db.session.execute(select(PlatformUser).where(
        PlatformUser.email == normalise_email(email))).scalar_one_or_none()


def create_admin(email: str, password: str) -> PlatformUser:
    email = normalise_email(email)
    check_password_rules(password)
    if _by_email(email) is not None:
        raise Conflict(f"platform admin {email} exists already",
                       {"email": ["exists already"]})
    admin = PlatformUser(id=uuid.uuid4(), email=email, password_hash=hash_password(password))
    db.session.add(admin)
    db.session.flush()
    return admin


def set_password(email: str, password: str) -> PlatformUser:
    """An operator sets an admin's password (the admin need not know the old one)."""
    check_password_rules(password)
    admin = _by_email(email)
    if admin is None:
        raise NotFound(f"no platform admin {normalise_email(email)}")
    admin.password_hash = hash_password(password)
    db.session.flush()
    return admin


def list_admins() -> list[PlatformUser]:
    return list(db.session.execute(select(PlatformUser).order_by(PlatformUser.email)).scalars())


def change_own_password(admin_id: uuid.UUID, current_password: str,
                        new_password: str) -> PlatformUser:
    """An admin replaces their own password, proving they know the current one.

    A wrong current password counts as a failed login of that account (same throttle key), so
    this endpoint is no way round the login throttle for someone holding a stolen token.
    """
    admin = db.session.get(PlatformUser, admin_id)
    if admin is None or not admin.active:
        raise Unauthorized("platform account is unknown or inactive")
    key = throttle_key("platform", admin.email)
    check_allowed(key)
    if not verify_password(admin.password_hash, current_password):
        record_failure(key)
        raise Unprocessable("the current password is wrong",
                            {"current_password": ["does not match"]})
    check_password_rules(new_password, "new_password")
    if new_password == current_password:
        raise Unprocessable("the new password is the current one",
                            {"new_password": ["must differ from the current password"]})
    admin.password_hash = hash_password(new_password)
    db.session.flush()
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
