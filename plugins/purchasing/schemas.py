"""Purchasing request and response schemas (money and quantities are strings in JSON)."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate

from core.sdk import (
    ContactQueryArgsSchema,
    ContactSchema,
    ContactUpdateSchema,
    FixedDecimal,
    money_field,
    quantity_field,
    sort_choices,
)
from plugins.purchasing.models import ORDER_STATUSES

MAX_LINES = 500
_POSITIVE = validate.Range(min=0, min_inclusive=False)


class SupplierSchema(ContactSchema):
    address = fields.String(load_default="", validate=validate.Length(max=2000))


class SupplierUpdateSchema(ContactUpdateSchema):
    address = fields.String(validate=validate.Length(max=2000))
    active = fields.Boolean(metadata={"description": "false deactivates the supplier"})


class SupplierQueryArgsSchema(ContactQueryArgsSchema):
    pass


class PurchaseOrderLineSchema(Schema):
    id = fields.UUID(dump_only=True)
    line_no = fields.Integer(dump_only=True)
    product_id = fields.UUID(required=True)
    quantity = quantity_field(required=True, validate=_POSITIVE)
    unit_cost = money_field(required=True, validate=validate.Range(min=0))
    tax_rate = FixedDecimal(5, 2, load_default=Decimal("0"),
                            validate=validate.Range(min=0, max=100),
                            metadata={"description": "Percent, 0 to 100"})
    line_total = money_field(dump_only=True, metadata={"description": "quantity x unit_cost"})
    tax_amount = money_field(dump_only=True)
    received_quantity = quantity_field(dump_only=True)
    outstanding_quantity = quantity_field(dump_only=True)


class PurchaseOrderSchema(Schema):
    id = fields.UUID(dump_only=True)
    number = fields.Integer(dump_only=True, metadata={"description": "Sequential per tenant"})
    supplier_id = fields.UUID(required=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(ORDER_STATUSES))
    reference = fields.String(load_default="", validate=validate.Length(max=100),
                              metadata={"description": "The supplier's reference, if any"})
    expected_date = fields.Date(allow_none=True, load_default=None)
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    lines = fields.List(fields.Nested(PurchaseOrderLineSchema), load_default=list,
                        validate=validate.Length(max=MAX_LINES))
    subtotal = money_field(dump_only=True)
    tax_total = money_field(dump_only=True)
    total = money_field(dump_only=True)
    created_by = fields.String(dump_only=True)
    ordered_at = fields.DateTime(dump_only=True)
    received_at = fields.DateTime(dump_only=True)
    cancelled_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PurchaseOrderUpdateSchema(Schema):
    supplier_id = fields.UUID()
    reference = fields.String(validate=validate.Length(max=100))
    expected_date = fields.Date(allow_none=True)
    notes = fields.String(validate=validate.Length(max=5000))
    lines = fields.List(fields.Nested(PurchaseOrderLineSchema),
                        validate=validate.Length(max=MAX_LINES),
                        metadata={"description": "Replaces every line (drafts only)"})


class PurchaseOrderQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    supplier_id = fields.UUID()
    sort = fields.String(load_default="-number", validate=validate.OneOf(
        sort_choices("number", "created_at", "expected_date", "total")))


class PurchaseReceiptLineInputSchema(Schema):
    line_id = fields.UUID(required=True, metadata={"description": "A line of this order"})
    quantity = quantity_field(required=True, validate=_POSITIVE)


class PurchaseReceiptInputSchema(Schema):
    location_id = fields.UUID(allow_none=True, load_default=None,
                              metadata={"description": "Stock location; default location "
                                                       "when absent"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    allow_over_receipt = fields.Boolean(load_default=False, metadata={
        "description": "Accept more than ordered (also allowed by the purchasing feature "
                       "allow_over_receipt)"})
    lines = fields.List(fields.Nested(PurchaseReceiptLineInputSchema), load_default=list,
                        validate=validate.Length(max=MAX_LINES), metadata={
                            "description": "Absent or empty: everything still outstanding"})


class PurchaseReceiptLineSchema(Schema):
    id = fields.UUID()
    line_id = fields.UUID()
    product_id = fields.UUID()
    quantity = quantity_field()
    unit_cost = money_field()
    stock_move_id = fields.UUID(allow_none=True)


class PurchaseReceiptSchema(Schema):
    id = fields.UUID()
    order_id = fields.UUID()
    location_id = fields.UUID()
    note = fields.String()
    received_by = fields.String()
    created_at = fields.DateTime()
    lines = fields.List(fields.Nested(PurchaseReceiptLineSchema))


class PurchaseReceiptResultSchema(Schema):
    receipt = fields.Nested(PurchaseReceiptSchema, required=True)
    order = fields.Nested(PurchaseOrderSchema, required=True,
                          metadata={"description": "The order after the receipt"})
