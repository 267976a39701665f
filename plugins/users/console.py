"""The users console page (``/users``): the owner lists the tenant's users (search by e-mail,
filter by role and state, 50 a page), creates one with an initial password, changes a role,
deactivates or reactivates a user and resets a password.

Owners only, like ``/api/v1/users``; the same services and schemas, so the same rules: a tenant
keeps at least one active owner (409 with the reason), and deactivating a user or resetting
their password ends their sessions and tokens. Views flush, the request commits.
"""

from __future__ import annotations

import uuid

from flask import g, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, select

from core.sdk import (
    USER_ROLES,
    Conflict,
    ConsoleBlueprint,
    Unprocessable,
    db,
    read_form,
    redirect_with_notice,
    render_page,
)
from plugins.users import services
from plugins.users.schemas import (
    PasswordResetSchema,
    UserCreateSchema,
    UserQueryArgsSchema,
    UserUpdateSchema,
)

OWNER = ("owner",)
PAGE_SIZE = 50

blp = ConsoleBlueprint("users_console", __name__, url_prefix="/users")
blp.nav("Users", "index", roles=OWNER, order=80)
blp.settings_panel("Users", "index", "who may sign in, their roles and passwords", roles=OWNER)


def _filters() -> tuple[dict, dict, dict]:
    """(query arguments for the service, what the form shows, errors), through the API's
    query schema. Empty inputs mean "any" (a select always sends its value). Not read_form:
    its checkbox reading would take any "active" value for true."""
    shown = {name: request.args.get(name, "").strip()[:254] for name in ("q", "role", "active")}
    try:
        args = UserQueryArgsSchema().load({name: value for name, value in shown.items() if value})
    except ValidationError as exc:
        return {}, shown, exc.messages if isinstance(exc.messages, dict) else {}
    return args, shown, {}


def _list_page(*, errors=None, status: int = 200, message: str | None = None, form=None):
    args, shown, filter_errors = _filters()
    if filter_errors:
        status, args = 422, {}
    statement = services.users_query(g.tenant.id, **args)
    total = db.session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())).scalar()
    pages = max(1, -(-total // PAGE_SIZE))
    page = max(1, min(request.args.get("page", 1, type=int) or 1, pages))
    users = db.session.execute(
        statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_page("users/index.html", title="Users", status=status, users=users,
                       total=total, page=page, pages=pages, filters=shown,
                       filter_args={name: value for name, value in shown.items() if value},
                       filter_errors=filter_errors, roles=USER_ROLES, errors=errors or {},
                       message=message, form=form or {})


def _user_page(user, *, errors=None, status: int = 200, message: str | None = None):
    return render_page("users/user.html", title=user.email, status=status, user=user,
                       roles=USER_ROLES, errors=errors or {}, message=message,
                       is_me=str(user.id) == g.identity.subject_id)


@blp.route("/")
@blp.page(roles=OWNER)
def index():
    return _list_page()


@blp.route("/", methods=["POST"])
@blp.page(roles=OWNER)
def create():
    data, errors = read_form(UserCreateSchema())
    form = {"email": request.form.get("email", "")[:254], "role": request.form.get("role", "")}
    if errors:
        return _list_page(errors=errors, status=422, form=form)
    try:
        user = services.create_user(g.tenant.id, **data)
    except (Conflict, Unprocessable) as exc:  # the e-mail is taken
        return _list_page(errors=getattr(exc, "errors", None) or {}, status=exc.status,
                          message=exc.message, form=form)
    return redirect_with_notice(url_for("users_console.index"),
                                f"User {user.email} ({user.role}) created.")


@blp.route("/<uuid:user_id>")
@blp.page(roles=OWNER)
def user_detail(user_id: uuid.UUID):
    return _user_page(services.get_user(g.tenant.id, user_id))


def _after_change(user, notice: str, *, ends_my_session: bool):
    # Changing your own role, state or password ends what this session may do: go to the
    # start page (which asks to sign in again when the session is over).
    if ends_my_session and str(user.id) == g.identity.subject_id:
        return redirect_with_notice("/", notice)
    return redirect_with_notice(url_for("users_console.user_detail", user_id=user.id), notice)


@blp.route("/<uuid:user_id>/role", methods=["POST"])
@blp.page(roles=OWNER)
def change_role(user_id: uuid.UUID):
    user = services.get_user(g.tenant.id, user_id)
    data, errors = read_form(UserUpdateSchema(only=("role",)))
    if not errors and "role" not in data:
        errors = {"role": ["Missing data for required field."]}
    if errors:
        return _user_page(user, errors=errors, status=422)
    try:
        user = services.update_user(g.tenant.id, user_id, role=data["role"])
    except Conflict as exc:  # the last active owner
        return _user_page(user, status=exc.status, message=exc.message)
    return _after_change(user, f"{user.email} is now {user.role}.",
                         ends_my_session=user.role != "owner")


@blp.route("/<uuid:user_id>/<any(activate, deactivate):action>", methods=["POST"])
@blp.page(roles=OWNER)
def switch_active(user_id: uuid.UUID, action: str):
    user = services.get_user(g.tenant.id, user_id)
    try:
        user = services.update_user(g.tenant.id, user_id, active=action == "activate")
    except Conflict as exc:  # the last active owner
        return _user_page(user, status=exc.status, message=exc.message)
    state = "active again" if user.active else "deactivated: their sessions and tokens ended"
    return _after_change(user, f"{user.email} is {state}.", ends_my_session=not user.active)


@blp.route("/<uuid:user_id>/password", methods=["POST"])
@blp.page(roles=OWNER)
def reset_password(user_id: uuid.UUID):
    user = services.get_user(g.tenant.id, user_id)
    data, errors = read_form(PasswordResetSchema())
    if errors:
        return _user_page(user, errors=errors, status=422)
    services.reset_password(g.tenant.id, user_id, data["password"])
    return _after_change(user, f"The password of {user.email} is reset; their sessions and "
                               "tokens ended.", ends_my_session=True)
