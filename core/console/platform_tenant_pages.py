"""The platform console's tenant pages: create a tenant (its first owner, a template or a set
of modules), and one tenant's page: status (activate, deactivate with a reason), its modules
(switch any of them, with what each requires), apply a template, and the links modules add
with ``ConsoleBlueprint.tenant_panel`` (billing: the plan).

Same rules as the platform API, because the same schemas (core/platform/schemas.py) and
services (core/platform/services.py, core/tenant_lifecycle.py, core/modules.py) do the work;
the request pipeline commits only answers below 400, so a refused form changes nothing.
"""

from __future__ import annotations

import uuid

from flask import current_app, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from core import modules as module_service
from core.app_state import app_state
from core.console.pages import ConsoleBlueprint
from core.console.platform_forms import flatten_errors
from core.console.platform_pages import tenant_readiness
from core.console.rendering import read_form, redirect_with_notice, render_page
from core.errors import DomainError, Unprocessable
from core.extensions import db
from core.models import User
from core.platform import services
from core.platform.schemas import TenantCreateSchema, TenantUpdateSchema
from core.readiness import schema_problems
from core.rls import tenant_context
from core.tenant_lifecycle import get_tenant

blp = ConsoleBlueprint("platform_tenant_console", __name__, platform=True,
                       url_prefix="/platform/tenants")

_CREATE_FIELDS = ("slug", "name", "template", "owner_email")


def _creatable_modules():
    """Modules a new tenant can start with: installed and offered by a plugin. Those only the
    platform switches (billing) are enabled for every new tenant anyway."""
    return [module for module in services.list_modules()
            if module.available and module.installed and module.tenant_toggleable]


def _new_form(status: int = 200, errors=None, message=None):
    values = {name: request.form.get(name, "")[:200] for name in _CREATE_FIELDS}
    return render_page("console/platform_tenant_new.html", title="New tenant", status=status,
                       errors=errors or {}, message=message, values=values,
                       checked=set(request.form.getlist("modules")),
                       templates=db.session.execute(services.templates_query()).scalars().all(),
                       modules=_creatable_modules())


@blp.route("/new")
@blp.platform_page
def new_tenant():
    return _new_form()


@blp.route("/new", methods=["POST"])
@blp.platform_page
def create_tenant():
    form = request.form
    raw = {"owner": {key: value for key, value in (("email", form.get("owner_email", "")),
                                                   ("password", form.get("owner_password", "")))
                     if value != ""}}
    for name in ("slug", "name", "template"):
        if form.get(name, "").strip():
            raw[name] = form[name].strip()
    if form.getlist("modules"):
        raw["modules"] = [key for key in form.getlist("modules") if key]
    try:
        data = TenantCreateSchema().load(raw)
    except ValidationError as exc:
        return _new_form(422, flatten_errors(exc.messages), "Check the fields marked below.")
    try:
        created = services.create_tenant(**data)
    except DomainError as exc:
        if exc.status == 401:
            raise
        errors = flatten_errors(exc.errors) if isinstance(exc, Unprocessable) else {}
        if exc.status == 409 and "exists" in exc.message:
            errors = {"slug": [exc.message]}
        return _new_form(exc.status, errors, exc.message)
    modules = ", ".join(created.modules) or "none"
    return redirect_with_notice(
        url_for("platform_tenant_console.tenant", tenant_id=created.tenant.id),
        f"Tenant {created.tenant.slug} created with owner {created.owner['email']}; "
        f"modules: {modules}.")


def _module_rows(tenant_id: uuid.UUID, problems: dict[str, str]) -> list[dict]:
    modules = module_service.tenant_modules(tenant_id)
    names = {module.key: module.name for module in modules}
    return [{"module": module,
             "requires": [names.get(key, key) for key in module.requires],
             "required_by": sorted(other.name for other in modules
                                   if module.key in other.requires and other.enabled),
             "pending": problems.get(module.key)}
            for module in modules]


def _tenant_page(tenant_id: uuid.UUID, status: int = 200, message: str | None = None,
                 errors=None):
    tenant = get_tenant(tenant_id)
    problems = schema_problems()
    with tenant_context(tenant.id):
        owners = db.session.execute(select(User.email).where(
            User.tenant_id == tenant.id, User.role == "owner").order_by(User.email)
        ).scalars().all()
    panels = [{"title": panel.title, "description": panel.description,
               "url": url_for(panel.endpoint, tenant_id=tenant.id)}
              for panel in app_state().console.tenant_panels]
    return render_page(
        "console/platform_tenant.html", title=f"Tenant {tenant.slug}", status=status,
        message=message, errors=errors or {}, tenant_row=tenant, owners=owners,
        readiness=tenant_readiness(tenant, problems), modules=_module_rows(tenant.id, problems),
        templates=db.session.execute(services.templates_query()).scalars().all(),
        panels=panels, host=f"{tenant.slug}.{current_app.config['ROOT_DOMAIN']}")


@blp.route("/<uuid:tenant_id>")
@blp.platform_page
def tenant(tenant_id: uuid.UUID):
    return _tenant_page(tenant_id)


def _refused(tenant_id: uuid.UUID, exc: DomainError):
    """A refused action re-renders the tenant page with the reason (409: a module another
    one requires); 401 and 404 (no such tenant, module or template) stay error pages."""
    if exc.status in (401, 404):
        raise exc
    errors = flatten_errors(exc.errors) if isinstance(exc, Unprocessable) else {}
    return _tenant_page(tenant_id, exc.status, exc.message, errors)


@blp.route("/<uuid:tenant_id>/status", methods=["POST"])
@blp.platform_page
def change_status(tenant_id: uuid.UUID):
    get_tenant(tenant_id)
    data, errors = read_form(TenantUpdateSchema())
    if not errors and "status" not in data:
        errors = {"status": ["Missing data for required field."]}
    if errors:
        return _tenant_page(tenant_id, 422, "Check the fields marked below.", errors)
    tenant = services.update_tenant(tenant_id, status=data["status"],
                                    status_reason=data.get("status_reason"), reason_given=True)
    return redirect_with_notice(url_for("platform_tenant_console.tenant", tenant_id=tenant_id),
                                f"Tenant {tenant.slug} is {tenant.status}.")


@blp.route("/<uuid:tenant_id>/modules/<key>/<any(enable, disable):action>", methods=["POST"])
@blp.platform_page
def switch_module(tenant_id: uuid.UUID, key: str, action: str):
    get_tenant(tenant_id)
    try:
        if action == "enable":
            changes = services.enable_for_tenant(tenant_id, key, {})
        else:
            changes = services.disable_for_tenant(tenant_id, key)
    except DomainError as exc:
        return _refused(tenant_id, exc)
    notice = "; ".join(changes) if changes else f"Nothing to change for {key}."
    return redirect_with_notice(url_for("platform_tenant_console.tenant", tenant_id=tenant_id),
                                notice)


@blp.route("/<uuid:tenant_id>/template", methods=["POST"])
@blp.platform_page
def apply_template(tenant_id: uuid.UUID):
    get_tenant(tenant_id)
    key = request.form.get("template", "").strip()
    if not key:
        return _tenant_page(tenant_id, 422, "Choose a template.",
                            {"template": ["choose a template"]})
    try:
        changes = services.apply_template(tenant_id, key[:63])
    except DomainError as exc:
        return _refused(tenant_id, exc)
    notice = "; ".join(changes) if changes else f"Template {key} changed nothing."
    return redirect_with_notice(url_for("platform_tenant_console.tenant", tenant_id=tenant_id),
                                f"Applied template {key}: {notice}")
