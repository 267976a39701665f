"""Marshmallow schemas of the users module. Password hashes are never part of any of them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.sdk import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USER_ROLES

_PASSWORD = validate.Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)


class UserSchema(Schema):
    id = fields.UUID(dump_only=True)
    email = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf(USER_ROLES))
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class UserCreateSchema(UserSchema):
    password = fields.String(required=True, load_only=True, validate=_PASSWORD)


class UserQueryArgsSchema(Schema):
    role = fields.String(validate=validate.OneOf(USER_ROLES))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=254),
                      metadata={"description": "Part of the e-mail address"})


class UserUpdateSchema(Schema):
    role = fields.String(validate=validate.OneOf(USER_ROLES))
    active = fields.Boolean(metadata={"description": "false: the user can no longer log in and "
                                                     "their tokens stop working"})


class PasswordResetSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=_PASSWORD)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                     validate=validate.Length(min=1, max=PASSWORD_MAX_LENGTH))
    new_password = fields.String(required=True, load_only=True, validate=_PASSWORD)

