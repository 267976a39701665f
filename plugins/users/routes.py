"""``/api/v1/users``: owners manage the tenant's users; any user changes their own password."""

from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from core.sdk import Blueprint, SQLPage, TokenSchema, db, issue_tenant_token
from plugins.users import services
from plugins.users.schemas import (
    PasswordChangeSchema,
    PasswordResetSchema,
    UserCreateSchema,
    UserQueryArgsSchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/v1/users",
                description="Users of the current tenant")


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQueryArgsSchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles("owner")
    def get(self, args):
        """List the tenant's users, filtered by role, active flag or e-mail."""
        return services.users_query(g.tenant.id, **args)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, description="A user with this e-mail exists")
    @blp.requires_roles("owner")
    def post(self, data):
        """Create a user with a password and a role."""
        user = services.create_user(g.tenant.id, **data)
        db.session.flush()
        return user


@blp.route("/<uuid:user_id>")
@blp.etag
class UserById(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user in this tenant")
    @blp.requires_roles("owner")
    def get(self, user_id: uuid.UUID):
        """Read one user."""
        return services.get_user(g.tenant.id, user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user in this tenant")
    @blp.alt_response(409, description="It is the last active owner")
    @blp.requires_roles("owner")
    def patch(self, data, user_id: uuid.UUID):
        """Change a user's role or deactivate/reactivate them."""
        blp.check_etag(services.get_user(g.tenant.id, user_id), UserSchema)
        user = services.update_user(g.tenant.id, user_id, **data)
        db.session.flush()
        return user

    @blp.response(204)
    @blp.alt_response(404, description="No such user in this tenant")
    @blp.alt_response(409, description="It is the last active owner, or records refer to it")
    @blp.requires_roles("owner")
    def delete(self, user_id: uuid.UUID):
        """Remove a user."""
        blp.check_etag(services.get_user(g.tenant.id, user_id), UserSchema)
        services.delete_user(g.tenant.id, user_id)
        db.session.flush()


@blp.route("/<uuid:user_id>/reset-password")
class UserPasswordReset(MethodView):
    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    @blp.alt_response(404, description="No such user in this tenant")
    @blp.requires_roles("owner")
    def post(self, data, user_id: uuid.UUID):
        """Set a user's password; their existing tokens stop working."""
        services.reset_password(g.tenant.id, user_id, data["password"])
        db.session.flush()


@blp.route("/me/password")
class OwnPassword(MethodView):
    @blp.arguments(PasswordChangeSchema)
    @blp.response(200, TokenSchema)
    @blp.requires_roles("owner", "admin", "cashier", kinds=("user",))
    def post(self, data):
        """Change your own password; returns a new token (older ones stop working)."""
        user = services.change_own_password(g.tenant.id, uuid.UUID(g.identity.subject_id),
                                            data["current_password"], data["new_password"])
        token, expires = issue_tenant_token(g.tenant.id, user)
        db.session.flush()
        return {"access_token": token, "token_type": "bearer", "expires_at": expires}
