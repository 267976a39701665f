"""Module registry and per-tenant toggles: what is available, installed, enabled; dependency
rules; templates. Services: explicit arguments, flush never commit, domain errors.

Lifecycle: available (plugin importable) -> installed (branch migrated, row in ``modules`` with
an installed version) -> enabled for a tenant (``tenant_modules`` row with enabled = true).
A missing toggle row means disabled. Disabling keeps the module's data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from core.app_state import app_state
from core.errors import Conflict, Forbidden, NotFound, Unprocessable
from core.extensions import db
from core.install_states import refuse_if_not_loaded
from core.models import ModuleRecord, TenantModule
from core.plugins import Module, PluginRegistry
from core.rls import tenant_context
from core.webhooks.events import emit_event


@dataclass(frozen=True)
class ModuleView:
    """One module as a tenant or the platform sees it."""

    key: str
    name: str
    description: str
    version: str
    requires: tuple[str, ...]
    tenant_toggleable: bool
    available: bool
    installed: bool
    installed_version: str | None
    enabled: bool | None = None
    features: dict[str, Any] | None = None


def registry() -> PluginRegistry:
    return app_state().registry


def installed_versions() -> dict[str, str]:
    rows = db.session.execute(select(ModuleRecord.key, ModuleRecord.installed_version)
                              .where(ModuleRecord.installed_version.is_not(None)))
    return dict(rows.all())


def _require_available(key: str) -> Module:
    module = registry().module(key)
    if module is None:
        refuse_if_not_loaded(key)
        raise NotFound(f"module '{key}' is not available in this deployment")
    return module


def _require_installed(key: str, installed: dict[str, str]) -> None:
    if key not in installed:
        raise Conflict(f"module '{key}' is not installed: its migrations are not applied; "
                       "run `tenantry migrate-all`")


def _validate_features(module: Module, features: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(features) - set(module.features))
    if unknown:
        raise Unprocessable(f"unknown features for module '{module.key}'",
                            {"features": {name: ["unknown feature"] for name in unknown}})
    for name, value in features.items():
        default = module.features[name]
        if default is not None and not isinstance(value, type(default)):
            raise Unprocessable(f"feature '{name}' of module '{module.key}' has the wrong type",
                                {"features": {name: [f"must be {type(default).__name__}"]}})
    return features


def _toggles(tenant_id: uuid.UUID) -> dict[str, TenantModule]:
    with tenant_context(tenant_id):
        rows = db.session.execute(select(TenantModule)).scalars().all()
    return {row.module_key: row for row in rows if row.tenant_id == tenant_id}


def tenant_modules(tenant_id: uuid.UUID) -> list[ModuleView]:
    """Every installed module with this tenant's enabled flag and feature values."""
    # Name and description as the platform set them in the registry (PATCH .../modules/<key>).
    installed = {row.key: row for row in db.session.execute(
        select(ModuleRecord).where(ModuleRecord.installed_version.is_not(None))).scalars()}
    toggles = _toggles(tenant_id)
    views = []
    for module in registry().modules.values():
        if module.key not in installed:
            continue
        toggle, record = toggles.get(module.key), installed[module.key]
        views.append(ModuleView(
            module.key, record.name, record.description, module.version, module.requires,
            module.tenant_toggleable, True, True, record.installed_version,
            enabled=bool(toggle and toggle.enabled),
            features={**module.features, **((toggle.features if toggle else None) or {})}))
    return views


def enable_module(tenant_id: uuid.UUID, key: str, features: dict[str, Any] | None = None,
                  *, by_platform: bool = False) -> list[str]:
    """Enable ``key`` and what it requires. Returns the keys newly enabled, requirements first."""
    return _enable(tenant_id, key, features, by_platform=by_platform,
                   installed=installed_versions(), toggles=_toggles(tenant_id))


def _known_toggle(tenant_id: uuid.UUID, key: str, toggles: dict[str, TenantModule]
                  ) -> TenantModule | None:
    """The toggle row from ``toggles``, or one a module-enabled hook created through this
    session since ``toggles`` was read (in the identity map: no SQL)."""
    toggle = toggles.get(key)
    if toggle is None:
        toggle = db.session.identity_map.get(identity_key(TenantModule, (tenant_id, key)))
        if toggle is not None:
            toggles[key] = toggle
    return toggle


def _enable(tenant_id: uuid.UUID, key: str, features: dict[str, Any] | None, *,
            by_platform: bool, installed: dict[str, str],
            toggles: dict[str, TenantModule]) -> list[str]:
    """``enable_module`` with the migration state and the tenant's toggle rows given, so that
    ``apply_modules`` reads them once for all its modules (``toggles`` is kept up to date)."""
    module = _require_available(key)
    if not module.tenant_toggleable and not by_platform:
        raise Forbidden(f"module '{key}' is managed by the platform, not by tenants")
    chain = registry().closure(key)
    for needed in chain:
        _require_installed(needed, installed)
    if features:
        _validate_features(module, features)
    newly: list[str] = []
    with tenant_context(tenant_id):
        for needed in chain:
            toggle = _known_toggle(tenant_id, needed, toggles)
            if toggle is None:
                toggle = TenantModule(tenant_id=tenant_id, module_key=needed, enabled=False,
                                      features={})
                db.session.add(toggle)
                toggles[needed] = toggle
            if needed == key and features:
                toggle.features = {**(toggle.features or {}), **features}
            if not toggle.enabled:
                needed_module = registry().module(needed)
                if not needed_module.tenant_toggleable and not by_platform:
                    raise Forbidden(f"module '{key}' requires '{needed}', which only the "
                                    "platform can enable")
                toggle.enabled = True
                newly.append(needed)
        db.session.flush()
        for enabled_key in newly:
            registry().hook.tenantry_module_enabled(
                tenant_id=tenant_id, module_key=enabled_key,
                features=dict(toggles[enabled_key].features or {}))
            emit_event(tenant_id, "module.enabled", {"module": enabled_key})
    _invalidate(tenant_id)
    return newly


def disable_module(tenant_id: uuid.UUID, key: str, *, by_platform: bool = False) -> bool:
    """Disable ``key``; 409 naming the enabled modules that require it. Data is kept."""
    module = _require_available(key)
    if not module.tenant_toggleable and not by_platform:
        raise Forbidden(f"module '{key}' is managed by the platform, not by tenants")
    toggles = _toggles(tenant_id)
    toggle = toggles.get(key)
    if toggle is None or not toggle.enabled:
        return False
    blockers = [k for k in registry().dependents(key) if toggles.get(k) and toggles[k].enabled]
    if blockers:
        raise Conflict(f"module '{key}' is required by enabled module(s) "
                       f"{', '.join(repr(b) for b in blockers)}; disable those first",
                       {"required_by": blockers})
    with tenant_context(tenant_id):
        toggle.enabled = False
        db.session.flush()
        registry().hook.tenantry_module_disabled(tenant_id=tenant_id, module_key=key)
        emit_event(tenant_id, "module.disabled", {"module": key})
    _invalidate(tenant_id)
    return True


def set_features(tenant_id: uuid.UUID, key: str, features: dict[str, Any], *,
                 by_platform: bool = False) -> None:
    module = _require_available(key)
    if not module.tenant_toggleable and not by_platform:
        raise Forbidden(f"module '{key}' is managed by the platform, not by tenants")
    _require_installed(key, installed_versions())
    _validate_features(module, features)
    toggle = _toggles(tenant_id).get(key)
    with tenant_context(tenant_id):
        if toggle is None:
            toggle = TenantModule(tenant_id=tenant_id, module_key=key, enabled=False, features={})
            db.session.add(toggle)
        toggle.features = {**(toggle.features or {}), **features}
        db.session.flush()
    _invalidate(tenant_id)


def describe_enabled(requested: str, newly: list[str]) -> list[str]:
    """What enabling ``requested`` did: 'enabled stock', 'enabled catalog (required by stock)'."""
    return [f"enabled {key}" if key == requested else f"enabled {key} (required by {requested})"
            for key in newly]


def update_tenant_settings(tenant_id: uuid.UUID, changes: dict[str, dict[str, Any]]) -> list[str]:
    """A tenant owner's toggles and feature values, all or nothing; returns what changed.

    ``changes`` maps module keys to ``{"enabled": bool, "features": {...}}`` (both optional).
    Disabling runs first, dependents before their requirements, then features and enabling in
    dependency order, so one request can swap modules or switch a module and its requirement
    off together.
    """
    unknown = sorted(key for key in changes if registry().module(key) is None)
    for key in unknown:
        refuse_if_not_loaded(key)  # installed after this server started: 409, restart
    if unknown:
        raise Unprocessable("unknown modules", {"modules": {
            key: ["no plugin provides this module"] for key in unknown}})
    order = [key for key in registry().modules if key in changes]
    done: list[str] = []
    for key in reversed(order):
        if changes[key].get("enabled") is False and disable_module(tenant_id, key):
            done.append(f"disabled {key}")
    enabled: set[str] = set()
    for key in order:
        change = changes[key]
        if change.get("features"):
            set_features(tenant_id, key, change["features"])
            done.append(f"set features of {key}")
        if change.get("enabled") is True:
            newly = [k for k in enable_module(tenant_id, key) if k not in enabled]
            enabled.update(newly)
            done += describe_enabled(key, newly)
    if done:
        from core.audit import record_audit

        record_audit(tenant_id, "modules.changed", target_type="tenant", target_id=tenant_id,
                     after={"requested": changes, "done": done})
    return done


def apply_modules(tenant_id: uuid.UUID, modules: dict[str, dict[str, Any]]) -> list[str]:
    """Enable every module of a template with its feature values (idempotent)."""
    validate_template_modules(modules)
    # One read of the migration state and of the tenant's toggles for all the modules (a new
    # tenant enables ten or so: this halves what creating one costs).
    installed, toggles = installed_versions(), _toggles(tenant_id)
    newly: list[str] = []
    for key in registry().modules:  # dependency order
        if key in modules:
            newly += [k for k in _enable(tenant_id, key, modules[key] or None, by_platform=True,
                                         installed=installed, toggles=toggles)
                      if k not in newly]
    return newly


def validate_template_modules(modules: dict[str, dict[str, Any]]) -> None:
    """422 unless every module exists and every feature is known (used when saving)."""
    errors: dict[str, list[str]] = {}
    for key, features in modules.items():
        module = registry().module(key)
        if module is None:
            errors[key] = ["no plugin provides this module"]
            continue
        try:
            _validate_features(module, features or {})
        except Unprocessable as exc:
            errors[key] = [f"{name}: {msgs[0]}" for name, msgs in exc.errors["features"].items()]
    if errors:
        raise Unprocessable("invalid modules in template", {"modules": errors})


def _invalidate(tenant_id: uuid.UUID) -> None:
    app_state().tenancy.invalidate(tenant_id)
