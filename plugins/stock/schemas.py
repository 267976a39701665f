"""Stock request and response schemas. Quantities and costs are strings in JSON."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.sdk import NON_ZERO, TRIMMED, FixedDecimal, quantity_field

# What other modules may post through the hook; transfers go through ``transfer`` in pairs.
HOOK_REASONS = ("receipt", "sale", "pos_sale", "return", "adjustment")
# What a person may post by hand; sales come from sales documents.
MANUAL_REASONS = ("receipt", "adjustment", "return")
MAX_LINES = 500


def unit_cost(**kwargs) -> FixedDecimal:
    return FixedDecimal(14, 4, validate=validate.Range(min=0), **kwargs)


def _unique_products(lines, field: str = "lines") -> None:
    seen = set()
    for line in lines or ():
        if line["product_id"] in seen:
            raise ValidationError({field: [f"product {line['product_id']} appears twice"]})
        seen.add(line["product_id"])


class StockLocationSchema(Schema):
    id = fields.UUID(dump_only=True)
    code = fields.String(required=True, validate=[validate.Length(max=32), TRIMMED])
    name = fields.String(required=True, validate=[validate.Length(max=120), TRIMMED])
    is_default = fields.Boolean(load_default=False, metadata={
        "description": "The location used when a move names none; exactly one per tenant"})
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class StockLocationUpdateSchema(Schema):
    code = fields.String(validate=[validate.Length(max=32), TRIMMED])
    name = fields.String(validate=[validate.Length(max=120), TRIMMED])
    is_default = fields.Boolean(validate=validate.Equal(True, error="make another location the "
                                                        "default instead"))
    active = fields.Boolean()


class StockLocationQueryArgsSchema(Schema):
    active = fields.Boolean()


class StockMoveSchema(Schema):
    id = fields.UUID(dump_only=True)
    product_id = fields.UUID(required=True)
    location_id = fields.UUID(allow_none=True, load_default=None,
                              metadata={"description": "Default location when absent"})
    quantity = quantity_field(required=True, validate=NON_ZERO,
                        metadata={"description": "Signed: negative takes stock out"})
    unit_cost = unit_cost(allow_none=True, load_default=None, metadata={
        "description": "Incoming cost per unit (moves the average cost); absent: valued at "
                       "the current average"})
    reason = fields.String(required=True, validate=validate.OneOf(HOOK_REASONS))
    reference_type = fields.String(allow_none=True, load_default=None,
                                   validate=validate.Length(min=1, max=40))
    reference_id = fields.UUID(allow_none=True, load_default=None)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    actor = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class StockManualMoveSchema(StockMoveSchema):
    reason = fields.String(required=True, validate=validate.OneOf(MANUAL_REASONS), metadata={
        "description": "receipt, adjustment (signed: a write-off is negative) or return"})


class StockMovesPostSchema(Schema):
    moves = fields.List(fields.Nested(StockManualMoveSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))


class StockMovesResultSchema(Schema):
    moves = fields.List(fields.Nested(StockMoveSchema), required=True)


class StockMoveQueryArgsSchema(Schema):
    product_id = fields.UUID()
    location_id = fields.UUID()
    reason = fields.String(validate=validate.OneOf((*HOOK_REASONS, "transfer")))
    reference_type = fields.String(validate=validate.Length(max=40))
    reference_id = fields.UUID()
    since = fields.AwareDateTime(metadata={"description": "Created at or after (ISO 8601 "
                                                          "with offset)"})
    until = fields.AwareDateTime(metadata={"description": "Created before"})
    sort = fields.String(load_default="-created_at",
                         validate=validate.OneOf(("created_at", "-created_at")))


class StockBalanceSchema(Schema):
    product_id = fields.UUID(required=True)
    location_id = fields.UUID(required=True)
    quantity = quantity_field(required=True)
    updated_at = fields.DateTime()


class StockBalanceQueryArgsSchema(Schema):
    product_id = fields.UUID()
    location_id = fields.UUID()
    nonzero = fields.Boolean(metadata={"description": "true: leave out zero balances"})


class ProductStockSchema(Schema):
    product_id = fields.UUID(required=True)
    quantity = quantity_field(required=True, metadata={"description": "On hand, all locations"})
    average_cost = unit_cost(required=True, metadata={"description": "Moving-average cost"})
    balances = fields.List(fields.Nested(StockBalanceSchema), required=True)


class StockCountLineSchema(Schema):
    product_id = fields.UUID(required=True)
    counted_quantity = quantity_field(required=True, validate=validate.Range(min=0))
    unit_cost = unit_cost(allow_none=True, load_default=None, metadata={
        "description": "Cost of units found beyond the balance (default: the average cost)"})


class StockCountSchema(Schema):
    location_id = fields.UUID(allow_none=True, load_default=None)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(StockCountLineSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))

    @validates_schema
    def _one_line_per_product(self, data, **_kwargs):
        _unique_products(data.get("lines"))


class StockCountResultLineSchema(Schema):
    product_id = fields.UUID(required=True)
    previous_quantity = quantity_field(required=True)
    counted_quantity = quantity_field(required=True)
    difference = quantity_field(required=True)


class StockCountResultSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "reference_id of the moves"})
    location_id = fields.UUID(required=True)
    lines = fields.List(fields.Nested(StockCountResultLineSchema), required=True)
    moves = fields.List(fields.Nested(StockMoveSchema), required=True)


class StockTransferLineSchema(Schema):
    product_id = fields.UUID(required=True)
    quantity = quantity_field(required=True, validate=validate.Range(min=0, min_inclusive=False))


class StockTransferSchema(Schema):
    from_location_id = fields.UUID(required=True)
    to_location_id = fields.UUID(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(StockTransferLineSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))

    @validates_schema
    def _one_line_per_product(self, data, **_kwargs):
        _unique_products(data.get("lines"))


class StockTransferResultSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "reference_id of the moves"})
    from_location_id = fields.UUID(required=True)
    to_location_id = fields.UUID(required=True)
    moves = fields.List(fields.Nested(StockMoveSchema), required=True)
