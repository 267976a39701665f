"""A tenant's lifecycle: create (with first owner, modules, template), change status, owners.
Which tenant a request's host names is ``core.tenancy``; the platform's routes are
``core.platform.tenant_routes``.

Used by the platform API, ``flask tenants``, ``flask serve``'s demo seed, bootstrap and tests.
Flush, never commit.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from core.app_state import app_state
from core.auth.passwords import hash_password
from core.errors import Conflict, NotFound, Unprocessable
from core.extensions import db
from core.models import TENANT_SLUG_PATTERN, Template, Tenant, TenantErasureRequest, User
from core.modules import apply_modules, installed_versions, registry
from core.rls import tenant_context

SLUG = re.compile(TENANT_SLUG_PATTERN)


def slugify(name: str) -> str:
    """A host label from a free-form name: 'Acme Clinic' -> 'acme-clinic'."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug


def validate_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise Unprocessable("invalid tenant slug", {"slug": [
            "lower-case letters, digits and '-', 1-63 characters, not starting or ending "
            "with '-'"]})
    if slug in current_app.config["RESERVED_SUBDOMAINS"]:
        raise Unprocessable("reserved tenant slug", {"slug": ["this name is reserved"]})
    return slug


def create_tenant(*, slug: str, name: str, owner_email: str | None = None,
                  owner_password: str | None = None, template_key: str | None = None,
                  modules: dict[str, dict[str, Any]] | None = None,
                  status: str = "active") -> Tenant:
    """Create a tenant, its first owner and its modules in the caller's transaction.

    Modules that are not tenant-toggleable and installed (billing) are enabled for every new
    tenant. A template's modules are applied after ``modules``.
    """
    validate_slug(slug)
    if db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).first():
        raise Conflict(f"a tenant named '{slug}' already exists")
    template = None
    if template_key:
        template = db.session.execute(
            select(Template).where(Template.key == template_key)).scalar_one_or_none()
        if template is None:
            raise Unprocessable("unknown template", {"template": [f"no template '{template_key}'"]})
    tenant = Tenant(id=uuid.uuid4(), slug=slug, name=name, status=status)
    db.session.add(tenant)
    db.session.flush()
    with tenant_context(tenant.id):
        if owner_email:
            create_user(tenant.id, email=owner_email, password=owner_password, role="owner")
        registry().hook.tenantry_tenant_created(tenant=tenant)
        installed = installed_versions()
        platform_modules = {m.key: {} for m in registry().modules.values()
                            if not m.tenant_toggleable and m.key in installed}
        apply_modules(tenant.id, {**platform_modules, **(modules or {}),
                                  **((template.modules if template else None) or {})})
    return tenant


def create_user(tenant_id: uuid.UUID, *, email: str, password: str | None, role: str) -> User:
    if not password:
        raise Unprocessable("a password is required", {"password": ["required"]})
    email = email.strip().lower()
    with tenant_context(tenant_id):
        if db.session.execute(select(User.id).where(User.email == email)).first():
            raise Conflict(f"a user with e-mail {email} already exists in this tenant")
        user = User(tenant_id=tenant_id, id=uuid.uuid4(), email=email,
                    password_hash=hash_password(password), role=role, active=True)
        db.session.add(user)
        db.session.flush()
    return user


def get_tenant(tenant_id: uuid.UUID) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def set_status(tenant_id: uuid.UUID, status: str, reason: str | None = None) -> Tenant:
    tenant = get_tenant(tenant_id)
    tenant.status = status
    tenant.status_reason = reason
    if status == "active":  # back in business: a pending erasure request no longer stands
        db.session.execute(delete(TenantErasureRequest)
                           .where(TenantErasureRequest.id == tenant_id))
    db.session.flush()
    app_state().tenancy.invalidate(tenant_id)
    return tenant
