"""User management inside one tenant. Explicit arguments, flush never commit, domain errors.

A tenant always keeps at least one active owner: removing, deactivating or demoting the last
one answers 409. Deactivation and password changes bump ``token_version``, which every request
compares with the token's ``ver`` claim, so existing tokens stop working at once.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from core.sdk import (
    Conflict,
    Unprocessable,
    User,
    audit_changes,
    create_tenant_user,
    db,
    get_or_404,
    hash_password,
    record_audit,
    tenant_context,
    verify_password,
)


def users_query(tenant_id: uuid.UUID, *, role: str | None = None, active: bool | None = None,
                q: str | None = None) -> Select:
    # RLS confines the rows to the bound tenant; the explicit filter says so in the SQL too.
    statement = select(User).where(User.tenant_id == tenant_id).order_by(User.email)
    if role:
        statement = statement.where(User.role == role)
    if active is not None:
        statement = statement.where(User.active.is_(active))
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") \
            + "%"
        statement = statement.where(User.email.like(pattern, escape="\\"))
    return statement


def get_user(tenant_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """The user, or 404 (another tenant's user is hidden by RLS: also 404)."""
    with tenant_context(tenant_id):
        return get_or_404(User, user_id, "user")


def create_user(tenant_id: uuid.UUID, *, email: str, password: str, role: str) -> User:
    user = create_tenant_user(tenant_id, email=email, password=password, role=role)
    record_audit(tenant_id, "user.created", target_type="user", target_id=user.id,
                 after={"email": user.email, "role": user.role})
    return user


def _require_another_active_owner(tenant_id: uuid.UUID, user: User, action: str) -> None:
    """409 unless an active owner other than ``user`` remains.

    The owners' rows are locked, so two owners demoting each other at the same time cannot
    both succeed: the second waits for the first and then sees one owner fewer.
    """
    with tenant_context(tenant_id):
        owners = db.session.execute(
            select(User.id).where(User.role == "owner", User.active.is_(True))
            .order_by(User.id).with_for_update()).scalars().all()
    if not any(owner_id != user.id for owner_id in owners):
        raise Conflict(f"cannot {action} the last active owner of this tenant; make another "
                       "user owner first")


def _is_active_owner(user: User) -> bool:
    return user.role == "owner" and user.active


def update_user(tenant_id: uuid.UUID, user_id: uuid.UUID, *, role: str | None = None,
                active: bool | None = None) -> User:
    user = get_user(tenant_id, user_id)
    if _is_active_owner(user):
        if active is False:
            _require_another_active_owner(tenant_id, user, "deactivate")
        elif role is not None and role != "owner":
            _require_another_active_owner(tenant_id, user, "demote")
    before = {"role": user.role, "active": user.active}
    with tenant_context(tenant_id):
        if role is not None:
            user.role = role  # effective at once: each request reads the role from the row
        if active is not None and active != user.active:
            user.active = active
            if not active:
                user.token_version += 1
        db.session.flush()
    old, new = audit_changes(before, {"role": user.role, "active": user.active})
    if new:
        record_audit(tenant_id, "user.updated", target_type="user", target_id=user.id,
                     before={"email": user.email, **old}, after=new)
    return user


def delete_user(tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
    user = get_user(tenant_id, user_id)
    if _is_active_owner(user):
        _require_another_active_owner(tenant_id, user, "remove")
    with tenant_context(tenant_id):
        try:
            # A savepoint: if other records still refer to the user, only the delete is undone.
            with db.session.begin_nested():
                db.session.delete(user)
        except IntegrityError as exc:
            raise Conflict("other records refer to this user; deactivate it instead") from exc
    record_audit(tenant_id, "user.deleted", target_type="user", target_id=user_id,
                 before={"email": user.email, "role": user.role})


def reset_password(tenant_id: uuid.UUID, user_id: uuid.UUID, password: str) -> User:
    """An owner sets a user's password; the user's tokens stop working."""
    user = get_user(tenant_id, user_id)
    with tenant_context(tenant_id):
        user.password_hash = hash_password(password)
        user.token_version += 1
        db.session.flush()
    record_audit(tenant_id, "user.password_reset", target_type="user", target_id=user.id,
                 after={"email": user.email})
    return user


def change_own_password(tenant_id: uuid.UUID, user_id: uuid.UUID, current_password: str,
                        new_password: str) -> User:
    """A user replaces their own password; all their tokens, this one included, stop working."""
    user = get_user(tenant_id, user_id)
    if not verify_password(user.password_hash, current_password):
        raise Unprocessable("the current password is wrong",
                            {"current_password": ["does not match"]})
    with tenant_context(tenant_id):
        user.password_hash = hash_password(new_password)
        user.token_version += 1
        db.session.flush()
    return user


