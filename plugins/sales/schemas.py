"""Sales request and response schemas (money, rates and quantities are strings in JSON)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.sdk import (
    ContactQueryArgsSchema,
    ContactSchema,
    ContactUpdateSchema,
    FixedDecimal,
    money_field,
    quantity_field,
    sort_choices,
)
from plugins.sales.models import ORDER_STATUSES
from plugins.sales.pricing import AMOUNT, DISCOUNT_KINDS, PERCENT

_POSITIVE = validate.Range(min=0, min_inclusive=False)
MAX_LINES = 500


# A percentage from 0 to 100 with at most two decimals, as text.
PERCENT_PATTERN = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"


class DiscountSchema(Schema):
    """A discount: ``percent`` (0 to 100) of the amount, or a fixed ``amount``. Sales orders
    and POS receipts (through ``plugins.sales.api``) share it."""

    class Meta:
        # What _percent_at_most_100 enforces, in the document: one branch per kind.
        openapi = {"oneOf": [
            {"properties": {"kind": {"type": "string", "enum": [PERCENT]},
                            "value": {"type": "string", "pattern": PERCENT_PATTERN}}},
            {"properties": {"kind": {"type": "string", "enum": [AMOUNT]}}}]}

    kind = fields.String(required=True, validate=validate.OneOf(DISCOUNT_KINDS))
    value = money_field(required=True, validate=validate.Range(min=0))

    @validates_schema
    def _percent_at_most_100(self, data, **kwargs):
        if data.get("kind") == PERCENT and data.get("value", 0) > 100:
            raise ValidationError("a percentage is at most 100", "value")


# --------------------------------------------------------------------------- customers


class CustomerSchema(ContactSchema):
    tax_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=40))


class CustomerUpdateSchema(ContactUpdateSchema):
    tax_id = fields.String(allow_none=True, validate=validate.Length(max=40))
    active = fields.Boolean(metadata={"description": "false deactivates the customer"})


class CustomerQueryArgsSchema(ContactQueryArgsSchema):
    pass


# --------------------------------------------------------------------------- orders


class SalesOrderLineSchema(Schema):
    id = fields.UUID(dump_only=True)
    line_no = fields.Integer(dump_only=True)
    product_id = fields.UUID(required=True)
    description = fields.String(dump_only=True, metadata={"description": "Product name"})
    quantity = quantity_field(required=True, validate=_POSITIVE)
    unit_price = money_field(validate=validate.Range(min=0), metadata={
        "description": "Net of tax; default: the product's sale price"})
    tax_rate = FixedDecimal(5, 2, dump_only=True, metadata={
        "description": "Percent, the product's tax rate when the line was written"})
    discount = fields.Nested(DiscountSchema, allow_none=True, load_default=None)
    gross = money_field(dump_only=True, metadata={"description": "quantity x unit_price"})
    line_discount = money_field(dump_only=True)
    order_discount = money_field(dump_only=True, metadata={
        "description": "This line's share of the order discount"})
    tax = money_field(dump_only=True)
    total = money_field(dump_only=True)


class SalesOrderSchema(Schema):
    id = fields.UUID(dump_only=True)
    number = fields.Integer(dump_only=True)
    customer_id = fields.UUID(allow_none=True, load_default=None)
    status = fields.String(dump_only=True, metadata={"enum": list(ORDER_STATUSES)})
    discount = fields.Nested(DiscountSchema, allow_none=True, load_default=None, metadata={
        "description": "Order discount, spread over the lines"})
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    lines = fields.List(fields.Nested(SalesOrderLineSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))
    subtotal = money_field(dump_only=True)
    discount_total = money_field(dump_only=True)
    tax_total = money_field(dump_only=True)
    total = money_field(dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    confirmed_at = fields.DateTime(dump_only=True)
    fulfilled_at = fields.DateTime(dump_only=True)
    cancelled_at = fields.DateTime(dump_only=True)


class SalesOrderUpdateSchema(Schema):
    customer_id = fields.UUID(allow_none=True)
    discount = fields.Nested(DiscountSchema, allow_none=True)
    notes = fields.String(validate=validate.Length(max=5000))
    lines = fields.List(fields.Nested(SalesOrderLineSchema),
                        validate=validate.Length(min=1, max=MAX_LINES),
                        metadata={"description": "Replaces every line"})


class SalesOrderQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    customer_id = fields.UUID()
    sort = fields.String(load_default="-number", validate=validate.OneOf(
        sort_choices("number", "created_at", "total")))


class SalesFulfilSchema(Schema):
    location_id = fields.UUID(allow_none=True, load_default=None, metadata={
        "description": "Stock location the goods leave (default location when absent)"})


# --------------------------------------------------------------------------- returns


class SalesReturnLineSchema(Schema):
    line_no = fields.Integer(dump_only=True)
    order_line_id = fields.UUID(required=True)
    product_id = fields.UUID(dump_only=True)
    quantity = quantity_field(required=True, validate=_POSITIVE)
    amount = money_field(dump_only=True, metadata={"description": "Money given back"})


class SalesReturnSchema(Schema):
    id = fields.UUID(dump_only=True)
    order_id = fields.UUID(dump_only=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    location_id = fields.UUID(load_only=True, allow_none=True, load_default=None, metadata={
        "description": "Stock location the goods return to (default location when absent)"})
    lines = fields.List(fields.Nested(SalesReturnLineSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))
    total = money_field(dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
