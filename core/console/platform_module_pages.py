"""The platform console's module registry: every module a plugin offers or the registry
records, with the version the code offers against the version installed (migrated), whether
its migrations are behind (``core.readiness``), what it requires, and the name and description
tenants see, which the platform may edit (``PATCH /api/v1/platform/modules/<key>``'s schema
and service)."""

from __future__ import annotations

from flask import request, url_for

from core.console.pages import ConsoleBlueprint
from core.console.rendering import read_form, redirect_with_notice, render_page
from core.platform import services
from core.platform.schemas import ModuleUpdateSchema
from core.readiness import schema_problems

blp = ConsoleBlueprint("platform_module_console", __name__, platform=True,
                       url_prefix="/platform/modules")
blp.nav("Modules", "modules", order=20)


def _state(module: services.PlatformModule, problems: dict[str, str]) -> str:
    if not module.available:
        return "no plugin provides it any more"
    if not module.installed:
        return "not installed: run `tenantry migrate-all`"
    return problems.get(module.key, "up to date")


@blp.route("/")
@blp.platform_page
def modules():
    problems = schema_problems()
    rows = [{"module": module, "state": _state(module, problems),
             "ok": module.installed and module.key not in problems}
            for module in services.list_modules()]
    return render_page("console/platform_modules.html", title="Modules", modules=rows)


def _form(module, status: int = 200, errors=None, values=None):
    values = values or {"name": module.name, "description": module.description}
    return render_page("console/platform_module_form.html", title=f"Module {module.key}",
                       status=status, errors=errors or {}, module=module, values=values)


@blp.route("/<key>")
@blp.platform_page
def module(key: str):
    return _form(services.get_module(key))


@blp.route("/<key>", methods=["POST"])
@blp.platform_page
def update_module(key: str):
    existing = services.get_module(key)
    data, errors = read_form(ModuleUpdateSchema())
    if not errors and "name" not in data:
        errors = {"name": ["Missing data for required field."]}
    if errors:
        values = {"name": "", "description": ""}
        values.update({name: request.form.get(name, "")[:5000] for name in values})
        return _form(existing, 422, errors, values)
    data.setdefault("description", "")  # emptied on the form: emptied
    services.update_module(key, **data)
    return redirect_with_notice(url_for("platform_module_console.modules"),
                                f"Module {key} saved.")
