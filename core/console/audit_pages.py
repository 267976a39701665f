"""The owner's audit log page (``/settings/audit``): the tenant's audit events, newest first,
50 a page, filtered by area (the action's prefix) — the same events and filters as
``GET /api/v1/tenant/audit`` (core/audit_routes.py), owners only. Actors are shown by e-mail
where they are users; changes as before → after, never a secret (they are redacted when
recorded, core/audit.py)."""

from __future__ import annotations

from flask import g, request

from core.audit_routes import _filtered
from core.console.pages import ConsoleBlueprint
from core.console.rendering import actor_names, page_of, render_page
from core.models import AuditEvent

OWNER = ("owner",)
AREAS = (("", "Everything"), ("modules.", "Modules"), ("user.", "Users"),
         ("api_key.", "API keys"), ("product.", "Products"), ("stock.", "Stock"),
         ("pos.", "Point of sale"))

blp = ConsoleBlueprint("console_audit", __name__, url_prefix="/settings/audit")
blp.settings_panel("Audit log", "index", "who changed settings, users, keys, prices and stock, "
                   "when and from where", roles=OWNER)


@blp.route("")
@blp.page(roles=OWNER)
def index():
    area = request.args.get("area", "")
    if area not in dict(AREAS):
        area = ""  # an unknown filter shows everything rather than an error page
    statement = _filtered(AuditEvent, {"action": area} if area else {}).where(
        AuditEvent.tenant_id == g.tenant.id)
    page = page_of(statement)
    names = actor_names(event.actor for event in page["rows"])
    return render_page("console/audit.html", title="Audit log", areas=AREAS, area=area,
                       names=names, args={"area": area} if area else {}, **page)
