"""What the loyalty API answers."""

from marshmallow import Schema, fields


class LoyaltyEntrySchema(Schema):
    source = fields.String()
    sale_id = fields.UUID()
    points = fields.Integer()
    created_at = fields.DateTime()


class LoyaltyAccountSchema(Schema):
    customer_id = fields.UUID()
    points = fields.Integer()
    updated_at = fields.DateTime()


class LoyaltyAccountDetailSchema(LoyaltyAccountSchema):
    entries = fields.List(fields.Nested(LoyaltyEntrySchema))
