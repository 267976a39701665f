"""Login services for tenant users and platform admins. Flush, never commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from core.auth.identity import signer
from core.auth.passwords import hash_password, hashing_slot, needs_rehash, verify_password
from core.auth.throttle import LoginAttempt
from core.errors import Unauthorized
from core.extensions import db
from core.models import PlatformUser, User

_BAD_LOGIN = "wrong e-mail or password"


def login_tenant_user(tenant_id: uuid.UUID, email: str, password: str) -> tuple[str, datetime]:
    """A tenant JWT for valid credentials of an active user (caller bound the tenant)."""
    return issue_tenant_token(tenant_id, verify_tenant_user(tenant_id, email, password))


def verify_tenant_user(tenant_id: uuid.UUID, email: str, password: str) -> User:
    """The active user with these credentials (throttled per account; the API login and the
    console's share it), else 401/429. The caller bound the tenant."""
    attempt = LoginAttempt(str(tenant_id), email)
    with hashing_slot():
        attempt.check()
        user = db.session.execute(
            select(User).where(User.email == email.lower())).scalar_one_or_none()
        if not verify_password(user.password_hash if user else None, password) \
                or not user.active:
            attempt.failed()
            raise Unauthorized(_BAD_LOGIN)
        attempt.succeeded()
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    return user


def issue_tenant_token(tenant_id: uuid.UUID, user: User) -> tuple[str, datetime]:
    """A tenant JWT for ``user``, carrying its token version and role (login, and the users
    module after a password change)."""
    return signer().issue(typ="tenant", subject=user.id, tenant_id=tenant_id,
                          extra={"ver": user.token_version, "role": user.role})


def login_platform_user(email: str, password: str) -> tuple[str, datetime]:
    return signer().issue(typ="platform", subject=verify_platform_user(email, password).id)


def verify_platform_user(email: str, password: str) -> PlatformUser:
    """The active platform admin with these credentials (throttled), else 401/429."""
    attempt = LoginAttempt("platform", email)
    with hashing_slot():
        attempt.check()
        user = db.session.execute(select(PlatformUser).where(
            PlatformUser.email == email.lower())).scalar_one_or_none()
        if not verify_password(user.password_hash if user else None, password) \
                or not user.active:
            attempt.failed()
            raise Unauthorized(_BAD_LOGIN)
        attempt.succeeded()
    return user
