"""The platform console's templates: named sets of modules with feature values, applied when a
tenant is created or later from its page. List, create, edit and delete, with the rules of
``/api/v1/platform/templates`` (its schemas and ``core/platform/services.py``): every module
must be offered by a plugin and every feature known, else 422 and nothing is saved.

The form lists every module with a checkbox and an input per feature (blank: the module's
default), read by ``core/console/platform_forms.py``.
"""

from __future__ import annotations

from flask import request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, select

from core.console.pages import ConsoleBlueprint
from core.console.platform_forms import feature_field, flatten_errors, read_module_selection
from core.console.rendering import redirect_with_notice, render_page
from core.errors import DomainError, Unprocessable
from core.extensions import db
from core.platform import services
from core.platform.schemas import TemplateSchema, TemplateUpdateSchema

blp = ConsoleBlueprint("platform_template_console", __name__, platform=True,
                       url_prefix="/platform/templates")
blp.nav("Templates", "templates", order=10)

PAGE_SIZE = 50


@blp.route("/")
@blp.platform_page
def templates():
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100000))
    statement = services.templates_query()
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar()
    rows = db.session.execute(
        statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_page("console/platform_templates.html", title="Templates", templates=rows,
                       page=page, pages=max(1, -(-total // PAGE_SIZE)), total=total)


def _available_modules():
    return [module for module in services.list_modules() if module.available]


def _form(*, template=None, status: int = 200, errors=None, message=None, values=None,
          selected=None):
    """The create (``template`` None) or edit form; ``values``/``selected`` re-show what was
    posted, otherwise the template's own."""
    if values is None:
        values = {"key": template.key if template else "",
                  "name": template.name if template else "",
                  "description": template.description if template else ""}
    if selected is None:
        selected = dict(template.modules or {}) if template else {}
    rows = [{"module": module, "checked": module.key in selected,
             "features": [{"name": name, "default": default,
                           "field": feature_field(module.key, name),
                           "value": (selected.get(module.key) or {}).get(name)}
                          for name, default in module.features.items()]}
            for module in _available_modules()]
    title = f"Template {template.key}" if template else "New template"
    return render_page("console/platform_template_form.html", title=title, status=status,
                       errors=errors or {}, message=message, template_row=template, values=values,
                       modules=rows)


def _posted():
    form = request.form
    values = {name: form.get(name, "").strip()[:5000] for name in ("key", "name", "description")}
    selected, feature_errors = read_module_selection(_available_modules())
    return values, selected, feature_errors


@blp.route("/new")
@blp.platform_page
def new_template():
    return _form()


@blp.route("/new", methods=["POST"])
@blp.platform_page
def create_template():
    values, selected, errors = _posted()
    raw = {name: value for name, value in values.items() if value != ""}
    raw["modules"] = selected
    try:
        data = TemplateSchema().load(raw)
    except ValidationError as exc:
        errors = {**flatten_errors(exc.messages), **errors}
    if errors:
        return _form(status=422, errors=errors, message="Check the fields marked below.",
                     values=values, selected=selected)
    try:
        template = services.create_template(**data)
    except DomainError as exc:
        return _refused(exc, None, values, selected)
    return redirect_with_notice(url_for("platform_template_console.templates"),
                                f"Template {template.key} created.")


def _refused(exc: DomainError, template, values, selected):
    if exc.status in (401, 404):
        raise exc
    errors = flatten_errors(exc.errors) if isinstance(exc, Unprocessable) else {}
    if exc.status == 409:
        errors = {"key": [exc.message]}
    return _form(template=template, status=exc.status, errors=errors, message=exc.message,
                 values=values, selected=selected)


@blp.route("/<key>")
@blp.platform_page
def template(key: str):
    return _form(template=services.get_template(key))


@blp.route("/<key>", methods=["POST"])
@blp.platform_page
def update_template(key: str):
    existing = services.get_template(key)
    values, selected, errors = _posted()
    values["key"] = existing.key  # the key names the template: not editable
    raw = {"name": values["name"], "description": values["description"], "modules": selected}
    raw = {name: value for name, value in raw.items() if value != ""}
    try:
        data = TemplateUpdateSchema().load(raw)
    except ValidationError as exc:
        errors = {**flatten_errors(exc.messages), **errors}
    if not values["name"]:
        errors.setdefault("name", ["Missing data for required field."])
    if errors:
        return _form(template=existing, status=422, errors=errors,
                     message="Check the fields marked below.", values=values, selected=selected)
    data.setdefault("description", "")  # a description emptied on the form is emptied
    data.setdefault("modules", {})
    try:
        services.update_template(key, **data)
    except DomainError as exc:
        return _refused(exc, existing, values, selected)
    return redirect_with_notice(url_for("platform_template_console.template", key=key),
                                f"Template {key} saved.")


@blp.route("/<key>/delete", methods=["POST"])
@blp.platform_page
def delete_template(key: str):
    services.delete_template(key)
    return redirect_with_notice(url_for("platform_template_console.templates"),
                                f"Template {key} deleted; tenants keep the modules it gave them.")
