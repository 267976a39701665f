"""The tenant console's own pages: the dashboard (every module's tiles, and core's own
"Users" tile for owners) and the owner's settings (module toggles with what each requires and
what requires it, and the settings panels modules contribute).

Module toggles go through the same service as ``PATCH /api/v1/tenant/settings``
(core/modules.py): enabling a module enables what it requires, disabling one another enabled
module requires is refused with the reason, and data is kept.
"""

from __future__ import annotations

from flask import g, url_for
from sqlalchemy import func, select

from core import modules as module_service
from core.app_state import app_state
from core.console.pages import ConsoleBlueprint
from core.console.rendering import redirect_with_notice, render_page
from core.errors import DomainError
from core.extensions import db
from core.models import USER_ROLES, User
from core.tenancy import module_state

# Also serves the console's stylesheet and script (/console/static/…, no CDN).
blp = ConsoleBlueprint("console", __name__, static_folder="static",
                       static_url_path="/console/static")
blp.nav("Dashboard", "dashboard", order=0)
blp.nav("Settings", "settings", roles=("owner",), order=90)


@blp.dashboard_tile("Users", roles=("owner",))
def users_tile() -> list[tuple[str, str]]:
    """Active users by role (core's users table: shown whether or not the users module,
    which manages them, is enabled)."""
    counts = dict(db.session.execute(
        select(User.role, func.count()).where(User.tenant_id == g.tenant.id,
                                              User.active.is_(True))
        .group_by(User.role)).all())
    return [(f"Active {role}s", str(counts.get(role, 0))) for role in USER_ROLES]


def _visible(module_key: str | None, roles: tuple[str, ...]) -> bool:
    if g.identity.role not in roles:
        return False
    return module_key is None or module_state(g.tenant.id, module_key).enabled


@blp.route("/")
@blp.page()
def dashboard():
    tiles = [{"title": tile.title, "lines": tile.lines()}
             for module_key, tile in app_state().console.tiles
             if _visible(module_key, tile.roles)]
    return render_page("console/dashboard.html", title="Dashboard", tiles=tiles)


def _module_rows() -> list[dict]:
    modules = module_service.tenant_modules(g.tenant.id)
    names = {module.key: module.name for module in modules}
    rows = []
    for module in modules:
        required_by = sorted(other.name for other in modules
                             if module.key in other.requires and other.enabled)
        rows.append({"module": module, "required_by": required_by,
                     "requires": [names.get(key, key) for key in module.requires]})
    return rows


@blp.route("/settings")
@blp.page(roles=("owner",))
def settings():
    panels = [panel for module_key, panel in app_state().console.settings
              if _visible(module_key, panel.roles)]
    return render_page("console/settings.html", title="Settings", modules=_module_rows(),
                       panels=panels)


@blp.route("/settings/modules/<key>/<any(enable, disable):action>", methods=["POST"])
@blp.page(roles=("owner",))
def switch_module(key: str, action: str):
    try:
        changes = module_service.update_tenant_settings(
            g.tenant.id, {key: {"enabled": action == "enable"}})
    except DomainError as exc:
        if exc.status == 401:
            raise
        return render_page("console/settings.html", title="Settings", status=exc.status,
                           modules=_module_rows(), panels=[], message=exc.message)
    notice = "; ".join(changes) if changes else f"Nothing to change for {key}."
    return redirect_with_notice(url_for("console.settings"), notice)
