"""Marshmallow schemas shared by core routes."""

from marshmallow import Schema, fields


class StatusSchema(Schema):
    status = fields.String(required=True)
