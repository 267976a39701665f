"""The web console: the screens of platform operators, tenant owners, admins and cashiers,
served by the same app and the same request pipeline as the API (docs/console.md).

``init_console(app)`` registers core's console blueprints (sign-in, the tenant dashboard and
settings, the owner's API keys, the platform console) and every ``ConsoleBlueprint`` a plugin
returns from ``tenantry_console_pages``, records each one's guard like an API blueprint's (a
plugin's pages are guarded by its module key: 403 when the tenant has not enabled it). Each
``ConsoleBlueprint`` brings the console's error pages, CSRF check and security headers itself
(core/console/pages.py). The pipeline authenticates console pages by their session cookie
(core/console/sessions.py) when no API credentials are sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, g, request

from core.app_state import app_state
from core.console.pages import (
    ConsoleBlueprint,
    DashboardTile,
    NavEntry,
    SettingsPanel,
    TenantPanel,
)
from core.console.sessions import session_identity
from core.guards import GUARD_PLATFORM, GUARD_TENANT
from core.rls import bind_tenant


@dataclass(eq=False)
class ConsoleState:
    """The console of one app: its blueprints and what they contribute."""

    blueprints: dict[str, bool] = field(default_factory=dict)  # console blueprint -> platform?
    nav: list[tuple[str | None, NavEntry]] = field(default_factory=list)  # (module, entry)
    tiles: list[tuple[str | None, DashboardTile]] = field(default_factory=list)
    settings: list[tuple[str | None, SettingsPanel]] = field(default_factory=list)
    tenant_panels: list[TenantPanel] = field(default_factory=list)  # platform tenant page


def _core_console_blueprints() -> list[ConsoleBlueprint]:
    from core.console.apikey_pages import blp as apikey_blp
    from core.console.audit_pages import blp as audit_blp
    from core.console.login_pages import platform_login_blp, tenant_login_blp
    from core.console.platform_account_pages import blp as platform_account_blp
    from core.console.platform_module_pages import blp as platform_module_blp
    from core.console.platform_pages import blp as platform_blp
    from core.console.platform_template_pages import blp as platform_template_blp
    from core.console.platform_tenant_pages import blp as platform_tenant_blp
    from core.console.tenant_pages import blp as tenant_blp
    from core.console.webhook_pages import blp as webhook_blp

    return [tenant_login_blp, platform_login_blp, tenant_blp, apikey_blp, audit_blp, webhook_blp,
            platform_blp, platform_tenant_blp, platform_template_blp, platform_module_blp,
            platform_account_blp]


def _plugin_console_blueprints(app: Flask):
    registry = app_state(app).registry
    for key, answers in registry.call_each("tenantry_console_pages", app=app):
        for blueprint in [item for answer in answers for item in answer or ()]:
            if not isinstance(blueprint, ConsoleBlueprint):
                raise TypeError(f"plugin {key!r} returned {blueprint!r}, not a "
                                "core.sdk.ConsoleBlueprint")
            yield key, blueprint


def init_console(app: Flask) -> None:
    state = app_state(app)
    console = ConsoleState()
    core_owned = [(None, blp) for blp in _core_console_blueprints()]
    for module_key, blueprint in [*core_owned, *_plugin_console_blueprints(app)]:
        app.register_blueprint(blueprint)
        console.blueprints[blueprint.name] = blueprint.platform
        if blueprint.platform:
            state.guards[blueprint.name] = GUARD_PLATFORM
            owner = "platform"
        else:
            state.guards[blueprint.name] = module_key or GUARD_TENANT
            owner = module_key
        contributions = blueprint.contributions
        console.nav.extend((owner, entry) for entry in contributions.nav)
        console.tiles.extend((owner, tile) for tile in contributions.tiles)
        console.settings.extend((owner, panel) for panel in contributions.settings)
        console.tenant_panels.extend(contributions.tenant_panels)
    state.console = console


def is_console_page() -> bool:
    """Whether this request is for a console page (core's or a plugin's), not the API."""
    console = app_state().console
    return bool(console) and (request.blueprint or "") in console.blueprints


def authenticate_console() -> None:
    """Pipeline step: on a console page without API credentials, the session cookie's
    identity (None when there is no valid session: the page's check then redirects to the
    login page)."""
    console = app_state().console
    if console is None or g.identity is not None:
        return
    platform = console.blueprints.get(request.blueprint or "")
    if platform is None:
        return  # not a console page
    if not platform and g.tenant is not None:
        bind_tenant(g.tenant.id)
    g.identity = session_identity(platform)
