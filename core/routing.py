"""Registers every blueprint, core's and each plugin's, and records the guard each needs.

Guards (core.guards) are looked up by blueprint name in the request pipeline instead of being
attached to the blueprints, so module-level Blueprint objects stay untouched and can be
registered on several apps (tests build many).
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint

from core.app_state import app_state
from core.guards import GUARD_NONE, GUARD_PLATFORM, GUARD_TENANT

# Set (through ``platform_blueprint``) on a plugin's blueprint that belongs to the platform API
# (platform hosts and platform credentials, like core's /api/v1/platform); a plugin's other
# blueprints are guarded by its module toggle.
PLATFORM_BLUEPRINT_ATTR = "tenantry_platform"


def platform_blueprint(blueprint: SmorestBlueprint) -> SmorestBlueprint:
    """Mark a plugin's blueprint as part of the platform API: core guards it like its own
    /api/v1/platform routes (platform hosts, platform credentials), not by a module toggle."""
    setattr(blueprint, PLATFORM_BLUEPRINT_ATTR, True)
    return blueprint


def _core_blueprints():
    from core.audit_routes import blp as audit_blp
    from core.auth.apikey_routes import blp as api_keys_blp
    from core.auth.apikey_routes import owner_blp as owner_api_keys_blp
    from core.auth.routes import blp as auth_blp
    from core.bootstrap_routes import blp as bootstrap_blp
    from core.export_routes import blp as export_blp
    from core.health import blp as health_blp
    from core.ledger_routes import blp as ledger_blp
    from core.platform import blp as platform_blp
    from core.settings_routes import blp as settings_blp
    from core.webhooks.routes import blp as webhooks_blp

    return [
        (health_blp, GUARD_NONE, {}),
        (bootstrap_blp, GUARD_NONE, {}),  # hostless: checks the host and its token itself
        (auth_blp, GUARD_TENANT, {}),
        (api_keys_blp, GUARD_TENANT, {}),  # ClinCore's root paths ...
        (api_keys_blp, GUARD_TENANT, {"url_prefix": "/api/v1", "name": "api_keys_v1"}),
        (owner_api_keys_blp, GUARD_TENANT, {}),
        (settings_blp, GUARD_TENANT, {}),
        (ledger_blp, GUARD_TENANT, {}),
        (audit_blp, GUARD_TENANT, {}),
        (export_blp, GUARD_TENANT, {}),
        (webhooks_blp, GUARD_TENANT, {}),
        (platform_blp, GUARD_PLATFORM, {}),
    ]


def _plugin_blueprints(app: Flask, api: Api):
    """(blueprint, guard, options) for every blueprint a plugin contributes; the guard is the
    module key, or the platform guard for a blueprint marked with PLATFORM_BLUEPRINT_ATTR.

    A plugin returns Blueprints, or (Blueprint, options) pairs to register one blueprint
    twice (options go to Flask: url_prefix, name), as the cases module does for ClinCore's
    root paths.
    """
    registry = app_state(app).registry
    # Per plugin, in dependency order: the guard is the module of the plugin that answered.
    for key, answers in registry.call_each("tenantry_register_blueprints", app=app, api=api):
        for item in [item for answer in answers for item in answer or ()]:
            blueprint, options = item if isinstance(item, tuple) else (item, {})
            if not isinstance(blueprint, SmorestBlueprint):
                raise TypeError(f"plugin {key!r} returned {blueprint!r}, not a "
                                "flask-smorest Blueprint")
            guard = GUARD_PLATFORM if getattr(blueprint, PLATFORM_BLUEPRINT_ATTR, False) \
                else key
            yield blueprint, guard, options


def register_blueprints(app: Flask, api: Api) -> None:
    guards: dict[str, str] = {}
    for blueprint, guard, options in [*_core_blueprints(), *_plugin_blueprints(app, api)]:
        api.register_blueprint(blueprint, **options)
        guards[options.get("name", blueprint.name)] = guard
    app_state(app).guards = guards
