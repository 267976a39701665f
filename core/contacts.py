"""Contacts: what every module's table of people it deals with (customers, suppliers) shares.

The tables stay the module's own (a supplier is not a customer, and each module owns its
migration branch); the operations (``ContactBook``: search, get, create, update, the "must
exist and be active" check) and the request schemas' common fields are written once here. A
module adds its own fields by subclassing the schemas.
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, or_, select

from core.errors import Unprocessable
from core.queries import (
    add_row,
    apply_changes,
    by_id,
    contains_pattern,
    get_or_404,
    ordered,
    sort_choices,
)
from core.schemas import TRIMMED


class ContactBook:
    """The operations on one module's contact table: ``suppliers = ContactBook(Supplier,
    "supplier")``. Explicit arguments, flush never commit, like every service."""

    def __init__(self, model, kind: str) -> None:
        self.model, self.kind = model, kind

    def search(self, args: dict[str, Any]) -> Select:
        """``q`` in the name or e-mail, ``active`` filter, sorted by ``sort``."""
        model = self.model
        statement = select(model)
        if args.get("q"):
            pattern = contains_pattern(args["q"])
            statement = statement.where(or_(model.name.ilike(pattern),
                                            model.email.ilike(pattern)))
        if "active" in args:
            statement = statement.where(model.active.is_(args["active"]))
        return ordered(statement, model, args["sort"])

    def get(self, contact_id: uuid.UUID, lock: bool = False):
        """The contact, or 404 "<kind> not found"."""
        return get_or_404(self.model, contact_id, self.kind, lock)

    def create(self, tenant_id: uuid.UUID, data: dict[str, Any]):
        return add_row(self.model, tenant_id, data)

    def update(self, contact, changes: dict[str, Any]):
        return apply_changes(contact, changes)

    def require_active(self, contact_id: uuid.UUID) -> None:
        """422 on ``<kind>_id`` unless ``contact_id`` names an active contact here."""
        field = f"{self.kind}_id"
        contact = by_id(self.model, contact_id)
        if contact is None:
            raise Unprocessable(f"unknown {self.kind}", {field: [f"no such {self.kind}"]})
        if not contact.active:
            raise Unprocessable(f"inactive {self.kind}", {field: [f"{self.kind} is inactive"]})


class ContactSchema(Schema):
    """A contact as created and returned; subclasses add their module's fields."""

    id = fields.UUID(dump_only=True)
    name = fields.String(required=True, validate=[validate.Length(max=200), TRIMMED])
    email = fields.Email(allow_none=True, load_default=None, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=40))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ContactUpdateSchema(Schema):
    """A partial update; subclasses add their fields and describe ``active`` for their kind."""

    name = fields.String(validate=[validate.Length(max=200), TRIMMED])
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    notes = fields.String(validate=validate.Length(max=5000))


class ContactQueryArgsSchema(Schema):
    """The query of a contact list (``search_contacts``)."""

    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "Name or e-mail contains (case-insensitive)"})
    active = fields.Boolean()
    sort = fields.String(load_default="name",
                         validate=validate.OneOf(sort_choices("name", "created_at")))
