"""What a console page is made of, for core and for plugins (exported by ``core.sdk``).

A module contributes pages by returning ``ConsoleBlueprint``s from the
``tenantry_console_pages`` hook. A ``ConsoleBlueprint`` is a Flask blueprint of HTML views
(templates shipped in the plugin package) that also carries what the console shows of it:

- ``nav(label, endpoint, roles=...)``: a navigation entry;
- ``dashboard_tile(title, roles=...)``: decorates a function returning the tile's lines
  (``[(label, value), ...]``) shown on the tenant dashboard;
- ``settings_panel(title, endpoint, roles=...)``: a link on the settings page;
- ``tenant_panel(title, endpoint)`` (platform blueprints): a link on the platform console's
  page of one tenant; the endpoint takes ``tenant_id`` (billing shows a tenant's plan so).

It is guarded like the module's API (core.routing records the module key): a tenant that has
not enabled the module gets the 403 page and no navigation entry. Views declare who may see
them with ``@blp.page(roles=...)`` (tenant users by role) or ``@blp.platform_page`` (platform
admins); without a signed-in session they redirect to the login page and back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Blueprint as FlaskBlueprint
from flask import request

from core.blueprint import platform_check, tenant_role_check, with_auth_check
from core.console.errors import register_page_errors
from core.console.security import require_csrf, secure_response
from core.console.sessions import cookie_name

ALL_ROLES = ("owner", "admin", "cashier")


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str  # "<blueprint>.<view>"
    roles: tuple[str, ...] = ALL_ROLES
    order: int = 50  # lower comes first


@dataclass(frozen=True)
class DashboardTile:
    title: str
    lines: Callable[[], list[tuple[str, str]]]  # runs in the request (tenant-scoped)
    roles: tuple[str, ...] = ALL_ROLES


@dataclass(frozen=True)
class SettingsPanel:
    title: str
    endpoint: str
    description: str = ""
    roles: tuple[str, ...] = ("owner",)


@dataclass(frozen=True)
class TenantPanel:
    title: str
    endpoint: str  # takes ``tenant_id``
    description: str = ""


@dataclass(eq=False)
class _Contributions:
    nav: list[NavEntry] = field(default_factory=list)
    tiles: list[DashboardTile] = field(default_factory=list)
    settings: list[SettingsPanel] = field(default_factory=list)
    tenant_panels: list[TenantPanel] = field(default_factory=list)


class ConsoleBlueprint(FlaskBlueprint):
    """A blueprint of console pages; ``platform=True`` for the platform console."""

    def __init__(self, name: str, import_name: str, *, platform: bool = False, **kwargs):
        kwargs.setdefault("template_folder", "templates")
        super().__init__(name, import_name, **kwargs)
        self.platform = platform
        self.contributions = _Contributions()
        # Set up here, once: a module-level blueprint is registered on many apps (tests).
        register_page_errors(self)
        self.before_request(self._check_csrf)
        self.after_request(secure_response)

    def _check_csrf(self) -> None:
        if request.blueprint == self.name:
            require_csrf(request.cookies.get(cookie_name(self.platform)))

    def nav(self, label: str, endpoint: str, roles: Iterable[str] = ALL_ROLES,
            order: int = 50) -> None:
        qualified = endpoint if "." in endpoint else f"{self.name}.{endpoint}"
        self.contributions.nav.append(NavEntry(label, qualified, tuple(roles), order))

    def dashboard_tile(self, title: str, roles: Iterable[str] = ALL_ROLES):
        def register(function: Callable[[], list[tuple[str, str]]]):
            self.contributions.tiles.append(DashboardTile(title, function, tuple(roles)))
            return function

        return register

    def settings_panel(self, title: str, endpoint: str, description: str = "",
                       roles: Iterable[str] = ("owner",)) -> None:
        qualified = endpoint if "." in endpoint else f"{self.name}.{endpoint}"
        self.contributions.settings.append(
            SettingsPanel(title, qualified, description, tuple(roles)))

    def tenant_panel(self, title: str, endpoint: str, description: str = "") -> None:
        """A link on the platform console's tenant page (``platform=True`` blueprints only):
        how a module shows what it keeps about a tenant there without core knowing it."""
        if not self.platform:
            raise ValueError("tenant_panel is for platform console blueprints")
        qualified = endpoint if "." in endpoint else f"{self.name}.{endpoint}"
        self.contributions.tenant_panels.append(TenantPanel(title, qualified, description))

    def page(self, roles: Iterable[str] = ALL_ROLES):
        """A tenant page for signed-in users whose role is in ``roles`` (API keys never)."""
        check = tenant_role_check(tuple(roles), kinds=("user",))

        def decorator(view: Callable) -> Callable:
            return with_auth_check(view, check)

        return decorator

    def platform_page(self, view: Callable) -> Callable:
        """A platform console page for signed-in platform admins."""
        return with_auth_check(view, platform_check)
