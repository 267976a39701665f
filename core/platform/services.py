"""Platform services: tenant listing and updates, module metadata, templates, and module
toggles made by the platform. Explicit arguments, flush never commit, domain errors.

Tenant creation and status changes live in ``core.tenant_lifecycle``; the toggle rules in
``core.modules`` (the platform calls them with ``by_platform=True``, the only way to switch
modules that are not tenant-toggleable).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from core import modules as module_service
from core import tenant_lifecycle
from core.audit import changed, record_audit, record_platform_audit
from core.errors import Conflict, NotFound, Unprocessable
from core.extensions import db
from core.install_states import refuse_if_not_loaded
from core.models import ModuleRecord, Template, Tenant, User
from core.rls import tenant_context
from core.tenancy import tenancy
from core.tenant_lifecycle import get_tenant, set_status

# --------------------------------------------------------------------------- tenants


@dataclass(frozen=True)
class CreatedTenant:
    """A new tenant with its first owner and the modules it starts with."""

    tenant: Tenant
    owner: dict[str, Any]
    modules: list[str]

    def __getattr__(self, name: str) -> Any:
        # Serialised flat: the tenant's own attributes next to owner and modules.
        return getattr(self.tenant, name)


def create_tenant(*, slug: str, name: str, owner: dict[str, str],
                  template: str | None = None,
                  modules: dict[str, dict[str, Any]] | None = None) -> CreatedTenant:
    tenant = tenant_lifecycle.create_tenant(slug=slug, name=name, owner_email=owner["email"],
                                            owner_password=owner["password"],
                                            template_key=template, modules=modules)
    with tenant_context(tenant.id):
        owner_id = db.session.execute(select(User.id).where(
            User.email == owner["email"].strip().lower())).scalar_one()
    record_platform_audit("tenant.created", target_type="tenant", target_id=tenant.id,
                          tenant_id=tenant.id, after={"slug": tenant.slug, "name": tenant.name,
                                                      "template": template,
                                                      "owner_email": owner["email"]})
    return CreatedTenant(tenant, {"id": str(owner_id), "email": owner["email"].strip().lower()},
                         enabled_module_keys(tenant.id))


def tenants_query(*, status: str | None = None, q: str | None = None) -> Select:
    statement = select(Tenant).order_by(Tenant.slug)
    if status:
        statement = statement.where(Tenant.status == status)
    if q:
        # Escape LIKE's wildcards: a search for "a_b" means the text, not a pattern.
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") \
            + "%"
        statement = statement.where(or_(Tenant.slug.like(pattern, escape="\\"),
                                        Tenant.name.ilike(pattern, escape="\\")))
    return statement


def update_tenant(tenant_id: uuid.UUID, *, name: str | None = None, status: str | None = None,
                  status_reason: str | None = None, reason_given: bool = False) -> Tenant:
    """Rename and/or change the status. A status change without a reason clears the old one."""
    tenant = get_tenant(tenant_id)
    before = {"name": tenant.name, "status": tenant.status, "status_reason": tenant.status_reason}
    if name is not None:
        tenant.name = name
    if status is not None:
        set_status(tenant_id, status, status_reason if reason_given else None)
    elif reason_given:
        tenant.status_reason = status_reason
    db.session.flush()
    tenancy().invalidate(tenant_id)  # cached TenantInfo carries name, status and reason
    old, new = changed(before, {"name": tenant.name, "status": tenant.status,
                                "status_reason": tenant.status_reason})
    if new:
        record_platform_audit("tenant.updated", target_type="tenant", target_id=tenant_id,
                              tenant_id=tenant_id, before=old, after=new)
    return tenant


def enabled_module_keys(tenant_id: uuid.UUID) -> list[str]:
    return [view.key for view in module_service.tenant_modules(tenant_id) if view.enabled]


def enable_for_tenant(tenant_id: uuid.UUID, key: str, features: dict[str, Any]) -> list[str]:
    get_tenant(tenant_id)  # 404 before anything else
    changes = []
    if features:
        module_service.set_features(tenant_id, key, features, by_platform=True)
        changes.append(f"set features of {key}")
    changes += module_service.describe_enabled(
        key, module_service.enable_module(tenant_id, key, by_platform=True))
    _record_module_switch(tenant_id, key, changes)
    return changes


def disable_for_tenant(tenant_id: uuid.UUID, key: str) -> list[str]:
    get_tenant(tenant_id)
    changes = [f"disabled {key}"] if module_service.disable_module(
        tenant_id, key, by_platform=True) else []
    _record_module_switch(tenant_id, key, changes)
    return changes


def _record_module_switch(tenant_id: uuid.UUID, key: str, changes: list[str]) -> None:
    """In the platform's log and in the tenant's own: the owner sees what the platform did."""
    if changes:
        record_platform_audit("tenant.modules_changed", target_type="module", target_id=key,
                              tenant_id=tenant_id, after={"done": changes})
        record_audit(tenant_id, "modules.changed_by_platform", target_type="module",
                     target_id=key, after={"done": changes})


# --------------------------------------------------------------------------- modules


@dataclass(frozen=True)
class PlatformModule:
    """A module as the platform sees it: what a plugin offers and what the registry records."""

    key: str
    name: str
    description: str
    version: str | None
    requires: tuple[str, ...]
    tenant_toggleable: bool
    features: dict[str, Any]
    available: bool
    installed: bool
    installed_version: str | None


def _describe(key: str, record: ModuleRecord | None) -> PlatformModule:
    module = module_service.registry().module(key)
    installed_version = record.installed_version if record else None
    return PlatformModule(
        key=key,
        # The platform's edits of name and description (the registry row) win over the
        # plugin's own words.
        name=record.name if record else module.name,
        description=record.description if record else module.description,
        version=module.version if module else None,
        requires=module.requires if module else (),
        tenant_toggleable=module.tenant_toggleable if module else True,
        features=dict(module.features) if module else {},
        available=module is not None,
        installed=installed_version is not None,
        installed_version=installed_version,
    )


def list_modules() -> list[PlatformModule]:
    """Every module a plugin offers, then registry rows whose plugin is gone."""
    records = {row.key: row for row in db.session.execute(select(ModuleRecord)).scalars()}
    keys = list(module_service.registry().modules)
    keys += sorted(key for key in records if key not in keys)
    return [_describe(key, records.get(key)) for key in keys]


def get_module(key: str) -> PlatformModule:
    record = db.session.get(ModuleRecord, key)
    if record is None and module_service.registry().module(key) is None:
        raise NotFound(f"no module '{key}'")
    return _describe(key, record)


def _require_plugin(key: str) -> None:
    if module_service.registry().module(key) is None:
        refuse_if_not_loaded(key)
        raise Unprocessable("no plugin provides this module",
                            {"key": [f"no installed plugin provides module '{key}'"]})


def create_module(*, key: str, name: str, description: str = "") -> PlatformModule:
    """Record a module's platform metadata before its migrations are applied."""
    _require_plugin(key)
    if db.session.get(ModuleRecord, key) is not None:
        raise Conflict(f"module '{key}' is already registered; PATCH it to change its metadata")
    record = ModuleRecord(key=key, name=name, description=description)
    db.session.add(record)
    db.session.flush()
    record_platform_audit("module.registered", target_type="module", target_id=key,
                          after={"name": name, "description": description})
    return _describe(key, record)


def update_module(key: str, *, name: str | None = None,
                  description: str | None = None) -> PlatformModule:
    """Change a module's name or description (creating its registry row if needed)."""
    record = db.session.get(ModuleRecord, key)
    if record is None:
        _require_plugin(key)
        module = module_service.registry().module(key)
        record = ModuleRecord(key=key, name=module.name, description=module.description)
        db.session.add(record)
    before = {"name": record.name, "description": record.description}
    if name is not None:
        record.name = name
    if description is not None:
        record.description = description
    db.session.flush()
    old, new = changed(before, {"name": record.name, "description": record.description})
    if new:
        record_platform_audit("module.updated", target_type="module", target_id=key,
                              before=old, after=new)
    return _describe(key, record)


# --------------------------------------------------------------------------- templates


def templates_query() -> Select:
    return select(Template).order_by(Template.key)


def get_template(key: str) -> Template:
    template = db.session.execute(select(Template).where(Template.key == key)).scalar_one_or_none()
    if template is None:
        raise NotFound(f"no template '{key}'")
    return template


def create_template(*, key: str, name: str, description: str = "",
                    modules: dict[str, dict[str, Any]] | None = None) -> Template:
    modules = modules or {}
    module_service.validate_template_modules(modules)
    if db.session.execute(select(Template.id).where(Template.key == key)).first():
        raise Conflict(f"a template '{key}' already exists")
    template = Template(id=uuid.uuid4(), key=key, name=name, description=description,
                        modules=modules)
    db.session.add(template)
    db.session.flush()
    record_platform_audit("template.created", target_type="template", target_id=key,
                          after={"name": name, "modules": modules})
    return template


def update_template(key: str, *, name: str | None = None, description: str | None = None,
                    modules: dict[str, dict[str, Any]] | None = None) -> Template:
    template = get_template(key)
    before = {"name": template.name, "description": template.description,
              "modules": template.modules}
    if modules is not None:
        module_service.validate_template_modules(modules)
        template.modules = modules
    if name is not None:
        template.name = name
    if description is not None:
        template.description = description
    db.session.flush()
    old, new = changed(before, {"name": template.name, "description": template.description,
                                "modules": template.modules})
    if new:
        record_platform_audit("template.updated", target_type="template", target_id=key,
                              before=old, after=new)
    return template


def delete_template(key: str) -> None:
    """Tenants keep the modules a template gave them; only the template goes."""
    db.session.delete(get_template(key))
    db.session.flush()
    record_platform_audit("template.deleted", target_type="template", target_id=key)


def apply_template(tenant_id: uuid.UUID, key: str) -> list[str]:
    """Enable the template's modules (and their requirements) with its feature values.

    Idempotent: applying it again changes nothing and reports no change. Modules the tenant
    has beyond the template stay as they are.
    """
    get_tenant(tenant_id)
    template = get_template(key)
    modules = template.modules or {}
    # Plugins may have gone since the template was saved: refuse before changing anything.
    module_service.validate_template_modules(modules)
    changes: list[str] = []
    enabled: set[str] = set()
    for module_key in module_service.registry().modules:  # dependency order
        if module_key not in modules:
            continue
        features = modules[module_key] or {}
        if features and _features_differ(tenant_id, module_key, features):
            changes.append(f"set features of {module_key}")
        newly = [k for k in module_service.enable_module(tenant_id, module_key, features or None,
                                                         by_platform=True) if k not in enabled]
        enabled.update(newly)
        changes += module_service.describe_enabled(module_key, newly)
    return changes


def _features_differ(tenant_id: uuid.UUID, key: str, features: dict[str, Any]) -> bool:
    current = next((view.features for view in module_service.tenant_modules(tenant_id)
                    if view.key == key), None) or {}
    return any(current.get(name) != value for name, value in features.items())
