"""The owner's API keys page (``/settings/api-keys``): list the tenant's keys, create one,
rotate one with a grace period, revoke one — the same services and schemas as
``/api/v1/api-keys`` (core/auth/apikey_services.py, core/auth/apikey_routes.py), and the same
rule: owners only, signed in as a user.

A raw key is shown exactly once: on the page that answers the create or rotate POST (never a
redirect, so it is not in any URL, cookie or later page). That answer carries
``Cache-Control: no-store`` (core.console.security.secure_response), so the browser does not
keep it either; the list shows only the prefix.
"""

from __future__ import annotations

import uuid

from flask import g, request, url_for
from sqlalchemy import func, select

from core.auth import apikey_services as services
from core.auth.apikey_routes import SHOWN_ONCE, ApiKeyCreateSchema, RotateSchema
from core.console.pages import ConsoleBlueprint
from core.console.rendering import read_form, redirect_with_notice, render_page
from core.extensions import db
from core.models import API_KEY_ROLES, ApiKey, User

OWNER = ("owner",)
PAGE_SIZE = 50
# What the rotate form offers; RotateSchema still validates the number (0 to 7 days).
GRACE_CHOICES = (
    (0, "none: the old key stops now"),
    (3600, "1 hour"),
    (86400, "1 day"),
    (services.MAX_GRACE_SECONDS, "7 days"),
)

blp = ConsoleBlueprint("console_api_keys", __name__, url_prefix="/settings/api-keys")
blp.settings_panel("API keys", "index", "keys for programs that call the API: create, rotate, "
                   "revoke", roles=OWNER)


@blp.dashboard_tile("API keys", roles=OWNER)
def api_keys_tile() -> list[tuple[str, str]]:
    live = db.session.execute(
        select(func.count()).select_from(ApiKey)
        .where(ApiKey.tenant_id == g.tenant.id, ApiKey.revoked_at.is_(None),
               (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > func.now()))).scalar()
    return [("Keys in use", str(live))]


def _creators(keys) -> dict[str, str]:
    """created_by ("user:<id>", as the API writes it) → the user's e-mail, for the list."""
    ids = set()
    for key in keys:
        kind, _, subject = (key.created_by or "").partition(":")
        if kind == "user":
            try:
                ids.add(uuid.UUID(subject))
            except ValueError:
                continue
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.email).where(
        User.tenant_id == g.tenant.id, User.id.in_(ids)))
    return {f"user:{user_id}": email for user_id, email in rows}


def _rows(keys) -> list[dict]:
    creators = _creators(keys)
    return [{"key": key, "status": services.key_status(key),
             "created_by": creators.get(key.created_by or "", key.created_by)} for key in keys]


def _list_page(errors=None, status: int = 200, message: str | None = None, form=None):
    keys = services.list_keys(g.tenant.id)
    pages = max(1, -(-len(keys) // PAGE_SIZE))
    page = max(1, min(request.args.get("page", 1, type=int) or 1, pages))
    shown = keys[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return render_page("console/api_keys.html", title="API keys", status=status,
                       keys=_rows(shown), page=page, pages=pages, total=len(keys),
                       roles=API_KEY_ROLES, grace_choices=GRACE_CHOICES, errors=errors or {},
                       message=message, form=form or {})


def _issued_page(issued: services.IssuedKey, *, status: int, old=None):
    return render_page("console/api_key_created.html", title="API key created", status=status,
                       key=issued.key, raw=issued.raw, shown_once=SHOWN_ONCE, old=old,
                       old_status=services.key_status(old) if old is not None else None)


@blp.route("")
@blp.page(roles=OWNER)
def index():
    return _list_page()


@blp.route("", methods=["POST"])
@blp.page(roles=OWNER)
def create():
    data, errors = read_form(ApiKeyCreateSchema())
    if errors:
        return _list_page(errors, 422, form=request.form)
    issued = services.create_key(g.tenant.id, label=data["label"], role=data["role"],
                                 created_by=g.identity.actor)
    return _issued_page(issued, status=201)


@blp.route("/<uuid:key_id>/rotate", methods=["POST"])
@blp.page(roles=OWNER)
def rotate(key_id: uuid.UUID):
    services.get_key(g.tenant.id, key_id)  # another tenant's key or an unknown one: 404 first
    data, errors = read_form(RotateSchema())
    if errors:
        return _list_page(errors, 422, message="The key was not rotated: " + "; ".join(
            f"{name}: {', '.join(text)}" for name, text in errors.items()))
    issued, old = services.rotate_key(g.tenant.id, key_id, grace_seconds=data["grace_seconds"],
                                      created_by=g.identity.actor)
    return _issued_page(issued, status=201, old=old)


@blp.route("/<uuid:key_id>/revoke", methods=["POST"])
@blp.page(roles=OWNER)
def revoke(key_id: uuid.UUID):
    key = services.revoke_key(g.tenant.id, key_id)
    return redirect_with_notice(url_for("console_api_keys.index"),
                                f"Key {key.prefix}… ({key.label}) is revoked.")
