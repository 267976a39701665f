"""POS request and response schemas (money and quantities are strings in JSON)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.sdk import TRIMMED, FixedDecimal, money_field, quantity_field
from plugins.pos.models import FISCAL_MODES, FISCAL_STATUSES, PAYMENT_METHODS, SHIFT_STATUSES
from plugins.sales.api import DiscountSchema

_POSITIVE = validate.Range(min=0, min_inclusive=False)
MAX_LINES = 500
MAX_BATCH = 100  # sales per offline sync request: a till's queue goes in pages of this size


class PosFiscalSchema(Schema):
    status = fields.String(metadata={"enum": list(FISCAL_STATUSES), "description":
                                     "registered (fiscally complete: the provider's number is "
                                     "here) or pending (sent after the sale; retried)"})
    mode = fields.String(metadata={"enum": ["test", "live"]})
    next_attempt_at = fields.DateTime(metadata={"description": "When pending: next try"})
    provider = fields.String(allow_none=True)
    fiscal_number = fields.String(allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    registered_at = fields.DateTime(allow_none=True)


# --------------------------------------------------------------------------- settings


class PosSettingsSchema(Schema):
    cash_register_provider = fields.String(required=True, allow_none=True, metadata={
        "description": "Provider for this tenant; null: the deployment's default"})
    fiscal_mode = fields.String(validate=validate.OneOf(FISCAL_MODES), metadata={
        "description": "live: documents are signed for real; test: by the provider's test "
                       "service; off: no fiscal registration. Absent from a PUT: unchanged"})
    effective_provider = fields.String(dump_only=True)
    available_providers = fields.List(fields.String(), dump_only=True)


# --------------------------------------------------------------------------- registers


class PosRegisterSchema(Schema):
    id = fields.UUID(dump_only=True)
    code = fields.String(required=True, validate=[validate.Length(max=32), TRIMMED])
    name = fields.String(required=True, validate=[validate.Length(max=120), TRIMMED])
    location_id = fields.UUID(allow_none=True, load_default=None, metadata={
        "description": "Stock location its sales take goods from (default location if null)"})
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PosRegisterUpdateSchema(Schema):
    code = fields.String(validate=[validate.Length(max=32), TRIMMED])
    name = fields.String(validate=[validate.Length(max=120), TRIMMED])
    location_id = fields.UUID(allow_none=True)
    active = fields.Boolean()


class PosRegisterQueryArgsSchema(Schema):
    active = fields.Boolean()


# --------------------------------------------------------------------------- shifts


class PosShiftSchema(Schema):
    id = fields.UUID(dump_only=True)
    register_id = fields.UUID(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": list(SHIFT_STATUSES)})
    opening_float = money_field(load_default="0.00", validate=validate.Range(min=0))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    opened_by = fields.String(dump_only=True)
    opened_at = fields.DateTime(dump_only=True)
    closed_by = fields.String(dump_only=True)
    closed_at = fields.DateTime(dump_only=True)
    expected_cash = money_field(dump_only=True)
    counted_cash = money_field(dump_only=True)
    difference = money_field(dump_only=True, metadata={"description": "counted - expected"})


class PosShiftQueryArgsSchema(Schema):
    register_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(SHIFT_STATUSES))


class PosCloseShiftSchema(Schema):
    counted_cash = money_field(required=True, validate=validate.Range(min=0))
    note = fields.String(validate=validate.Length(max=2000))


class PosCashMovementSchema(Schema):
    id = fields.UUID(dump_only=True)
    shift_id = fields.UUID(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(("in", "out")))
    amount = money_field(required=True, validate=_POSITIVE)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class PosShiftTaxSchema(Schema):
    tax_rate = FixedDecimal(5, 2)
    net = money_field()
    tax = money_field()


class PosShiftReportSchema(Schema):
    kind = fields.String(metadata={"description": "X (shift open) or Z (closed)"})
    shift_id = fields.UUID()
    register_id = fields.UUID()
    status = fields.String()
    opened_at = fields.DateTime()
    opened_by = fields.String()
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    opening_float = money_field()
    receipts = fields.Integer()
    sales_subtotal = money_field()
    sales_discount_total = money_field()
    sales_tax_total = money_field()
    sales_total = money_field()
    sales_cash = money_field(metadata={"description": "Cash taken less change given"})
    sales_card = money_field()
    refunds = fields.Integer()
    refunds_total = money_field()
    refunds_cash = money_field()
    refunds_card = money_field()
    net_total = money_field(metadata={"description": "sales_total - refunds_total"})
    cash_in = money_field()
    cash_out = money_field()
    expected_cash = money_field(metadata={
        "description": "opening_float + cash_in - cash_out + sales_cash - refunds_cash"})
    counted_cash = money_field(allow_none=True)
    difference = money_field(allow_none=True, metadata={"description": "counted - expected"})
    taxes = fields.List(fields.Nested(PosShiftTaxSchema), metadata={
        "description": "Sales per tax rate: net of tax and the tax (refunds not deducted)"})


# --------------------------------------------------------------------------- receipts


class PosReceiptLineSchema(Schema):
    id = fields.UUID(dump_only=True)
    line_no = fields.Integer(dump_only=True)
    product_id = fields.UUID(required=True)
    description = fields.String(dump_only=True)
    quantity = quantity_field(required=True, validate=_POSITIVE)
    unit_price = money_field(validate=validate.Range(min=0), metadata={
        "description": "Net of tax; default: the product's sale price"})
    tax_rate = FixedDecimal(5, 2, dump_only=True)
    discount = fields.Nested(DiscountSchema, allow_none=True, load_default=None)
    gross = money_field(dump_only=True)
    line_discount = money_field(dump_only=True)
    order_discount = money_field(dump_only=True)
    tax = money_field(dump_only=True)
    total = money_field(dump_only=True)


class PosPaymentSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    amount = money_field(required=True, validate=_POSITIVE)


class PosReceiptSchema(Schema):
    id = fields.UUID(dump_only=True)
    register_id = fields.UUID(dump_only=True)
    shift_id = fields.UUID(dump_only=True)
    client_receipt_id = fields.UUID(allow_none=True, load_default=None, metadata={
        "description": "The till's own id for the sale (a UUID it generates): sending the same "
                       "sale again answers the original receipt (200) and changes nothing"})
    occurred_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "When the sale happened at the till (with a time zone; default: now). "
                       "At most 5 minutes ahead of the server's clock"})
    discount = fields.Nested(DiscountSchema, allow_none=True, load_default=None)
    lines = fields.List(fields.Nested(PosReceiptLineSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))
    payments = fields.List(fields.Nested(PosPaymentSchema), required=True,
                           validate=validate.Length(max=20))
    subtotal = money_field(dump_only=True)
    discount_total = money_field(dump_only=True)
    tax_total = money_field(dump_only=True)
    total = money_field(dump_only=True)
    paid = money_field(dump_only=True)
    change = money_field(dump_only=True)
    fiscal = fields.Nested(PosFiscalSchema, dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class PosOfflineReceiptSchema(PosReceiptSchema):
    """A sale from a till's queue: its own id and time are required."""

    client_receipt_id = fields.UUID(required=True, metadata={
        "description": "The till's own id for the sale; a sale already recorded under it is "
                       "answered as it is"})
    occurred_at = fields.AwareDateTime(required=True, metadata={
        "description": "When the sale happened at the till (with a time zone)"})


class PosReceiptBatchSchema(Schema):
    receipts = fields.List(fields.Nested(PosOfflineReceiptSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_BATCH), metadata={
                               "description": "The till's queue, oldest first"})


class PosOutcomeErrorSchema(Schema):
    message = fields.String()
    errors = fields.Dict(metadata={"description": "Field errors, as a 4xx answer carries them"})


class PosStockBelowZeroSchema(Schema):
    product_id = fields.UUID()
    location_id = fields.UUID()
    on_hand = quantity_field()


class PosBatchOutcomeSchema(Schema):
    client_receipt_id = fields.UUID()
    status = fields.String(metadata={"enum": ["created", "replayed", "failed"]})
    http_status = fields.Integer(metadata={
        "description": "What sending this sale alone would have answered (201, 200, 4xx)"})
    receipt = fields.Nested(PosReceiptSchema, metadata={"description": "Absent when failed"})
    error = fields.Nested(PosOutcomeErrorSchema, metadata={"description": "When failed: keep "
                                                           "the sale queued and send it again"})
    stock_below_zero = fields.List(fields.Nested(PosStockBelowZeroSchema), metadata={
        "description": "Balances this sale took below zero (the tenant allows negative stock)"})


class PosBatchResultSchema(Schema):
    results = fields.List(fields.Nested(PosBatchOutcomeSchema), metadata={
        "description": "One outcome per sale, in the order sent"})
    created = fields.Integer()
    replayed = fields.Integer()
    failed = fields.Integer()


class PosReceiptQueryArgsSchema(Schema):
    register_id = fields.UUID()
    shift_id = fields.UUID()
    fiscal_status = fields.String(validate=validate.OneOf(FISCAL_STATUSES))


class PosRefundLineSchema(Schema):
    line_no = fields.Integer(dump_only=True)
    receipt_line_id = fields.UUID(required=True)
    product_id = fields.UUID(dump_only=True)
    quantity = quantity_field(required=True, validate=_POSITIVE)
    amount = money_field(dump_only=True)


class PosRefundSchema(Schema):
    id = fields.UUID(dump_only=True)
    receipt_id = fields.UUID(dump_only=True)
    register_id = fields.UUID(dump_only=True)
    shift_id = fields.UUID(dump_only=True)
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(PosRefundLineSchema), load_default=None,
                        validate=validate.Length(min=1, max=MAX_LINES), metadata={
                            "description": "What is given back; absent: everything left"})
    total = money_field(dump_only=True)
    fiscal = fields.Nested(PosFiscalSchema, dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
