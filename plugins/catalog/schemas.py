"""Catalog request and response schemas (money and rates are strings in JSON)."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate

from core.sdk import TRIMMED, FixedDecimal, money_field, sort_choices

# Text that is not blank and carries no leading or trailing whitespace (codes people type).

PRODUCT_SORTS = ("name", "sku", "sale_price", "created_at", "updated_at")
CATEGORY_SORTS = ("name", "created_at")


def tax_rate(**kwargs) -> FixedDecimal:
    return FixedDecimal(5, 2, validate=validate.Range(min=0, max=100), **kwargs)


class CategorySchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String(required=True, validate=[validate.Length(max=120), TRIMMED])
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    parent_id = fields.UUID(allow_none=True, load_default=None,
                            metadata={"description": "Parent category; null for a root"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class CategoryUpdateSchema(Schema):
    name = fields.String(validate=[validate.Length(max=120), TRIMMED])
    description = fields.String(validate=validate.Length(max=2000))
    parent_id = fields.UUID(allow_none=True, metadata={
        "description": "Move under this category (null: make it a root). Moving a category "
                       "under itself or one of its descendants is refused (422)."})


class CategoryQueryArgsSchema(Schema):
    parent_id = fields.UUID(metadata={"description": "Only direct children of this category"})
    roots = fields.Boolean(metadata={"description": "true: only root categories"})
    q = fields.String(validate=validate.Length(max=120),
                      metadata={"description": "Name contains (case-insensitive)"})
    sort = fields.String(load_default="name", validate=validate.OneOf(
        sort_choices(*CATEGORY_SORTS)), metadata={"description": "Field, '-' for descending"})


class ProductSchema(Schema):
    id = fields.UUID(dump_only=True)
    sku = fields.String(required=True, validate=[validate.Length(max=64), TRIMMED])
    barcode = fields.String(allow_none=True, load_default=None,
                            validate=[validate.Length(max=64), TRIMMED])
    name = fields.String(required=True, validate=[validate.Length(max=200), TRIMMED])
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    unit = fields.String(load_default="unit", validate=[validate.Length(max=20), TRIMMED],
                         metadata={"description": "Unit of measure: unit, kg, l, box..."})
    sale_price = money_field(required=True, validate=validate.Range(min=0))
    tax_rate = tax_rate(load_default=Decimal("0"), metadata={"description": "Percent, 0 to 100"})
    category_id = fields.UUID(allow_none=True, load_default=None)
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ProductUpdateSchema(Schema):
    sku = fields.String(validate=[validate.Length(max=64), TRIMMED])
    barcode = fields.String(allow_none=True, validate=[validate.Length(max=64), TRIMMED])
    name = fields.String(validate=[validate.Length(max=200), TRIMMED])
    description = fields.String(validate=validate.Length(max=5000))
    unit = fields.String(validate=[validate.Length(max=20), TRIMMED])
    sale_price = money_field(validate=validate.Range(min=0))
    tax_rate = tax_rate()
    category_id = fields.UUID(allow_none=True)
    active = fields.Boolean(metadata={"description": "false deactivates the product"})


class ProductQueryArgsSchema(Schema):
    q = fields.String(validate=validate.Length(max=200), metadata={
        "description": "Name, SKU or barcode contains this (case-insensitive)"})
    category_id = fields.UUID()
    active = fields.Boolean()
    sort = fields.String(load_default="name", validate=validate.OneOf(
        sort_choices(*PRODUCT_SORTS)), metadata={"description": "Field, '-' for descending"})
