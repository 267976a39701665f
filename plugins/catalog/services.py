"""Catalog operations. Explicit arguments, flush never commit, ``core.errors`` for refusals.

Another tenant's ids are invisible under RLS, so they are simply "not found".
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, or_, select, text
from sqlalchemy.exc import IntegrityError

from core.sdk import (
    Conflict,
    Unprocessable,
    add_row,
    apply_changes,
    audit_changes,
    by_id,
    contains_pattern,
    db,
    get_or_404,
    ordered,
    record_audit,
    value_taken,
)
from plugins.catalog.models import Category, Product

# Serialises changes to one tenant's category tree, so that two concurrent moves cannot
# build a cycle that neither would see alone.
_TREE_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_ANCESTORS = text("""
    WITH RECURSIVE ancestors(id, parent_id) AS (
        SELECT id, parent_id FROM categories WHERE tenant_id = :tenant_id AND id = :start
        UNION
        SELECT c.id, c.parent_id FROM categories c JOIN ancestors a ON c.id = a.parent_id
         WHERE c.tenant_id = :tenant_id
    )
    SELECT 1 FROM ancestors WHERE id = :category LIMIT 1
""")


def _foreign_key_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "23503"


# --------------------------------------------------------------------------- categories


def list_categories(args: dict[str, Any]) -> Select:
    statement = select(Category)
    if "parent_id" in args:
        statement = statement.where(Category.parent_id == args["parent_id"])
    if args.get("roots"):
        statement = statement.where(Category.parent_id.is_(None))
    if args.get("q"):
        statement = statement.where(Category.name.ilike(contains_pattern(args["q"])))
    return ordered(statement, Category, args["sort"])


def get_category(category_id: uuid.UUID, lock: bool = False) -> Category:
    return get_or_404(Category, category_id, "category", lock)


def _require_parent(parent_id: uuid.UUID | None) -> None:
    if parent_id is not None and by_id(Category, parent_id) is None:
        raise Unprocessable("unknown parent category", {"parent_id": ["no such category"]})


def _require_unique_name(name: str, parent_id: uuid.UUID | None,
                         exclude: uuid.UUID | None = None) -> None:
    statement = select(Category.id).where(Category.name == name,
                                          Category.parent_id.is_not_distinct_from(parent_id))
    if exclude is not None:
        statement = statement.where(Category.id != exclude)
    if db.session.execute(statement).first():
        raise Conflict("a category with this name already exists at this place in the tree",
                       {"name": ["already used by a sibling category"]})


def create_category(tenant_id: uuid.UUID, data: dict[str, Any]) -> Category:
    _require_parent(data.get("parent_id"))
    _require_unique_name(data["name"], data.get("parent_id"))
    return add_row(Category, tenant_id, data)


def update_category(tenant_id: uuid.UUID, category: Category, changes: dict[str, Any]) -> Category:
    if "parent_id" in changes and changes["parent_id"] != category.parent_id:
        db.session.execute(_TREE_LOCK, {"key": f"catalog.categories:{tenant_id}"})
        parent_id = changes["parent_id"]
        _require_parent(parent_id)
        if parent_id is not None and db.session.execute(
                _ANCESTORS, {"tenant_id": category.tenant_id, "start": parent_id,
                             "category": category.id}).first():
            raise Unprocessable("a category cannot move under itself or its descendants",
                                {"parent_id": ["is this category or one of its descendants"]})
    name = changes.get("name", category.name)
    parent = changes.get("parent_id", category.parent_id)
    if (name, parent) != (category.name, category.parent_id):
        _require_unique_name(name, parent, exclude=category.id)
    return apply_changes(category, changes)


def delete_category(category: Category) -> None:
    """Delete an empty category; one with subcategories or products answers 409."""
    try:
        with db.session.begin_nested():
            db.session.delete(category)
            db.session.flush()
    except IntegrityError as exc:
        if not _foreign_key_violation(exc):
            raise
        raise Conflict("the category has subcategories or products; move them first") from exc


# --------------------------------------------------------------------------- products


def list_products(args: dict[str, Any]) -> Select:
    statement = select(Product)
    if args.get("q"):
        pattern = contains_pattern(args["q"])
        statement = statement.where(or_(Product.name.ilike(pattern), Product.sku.ilike(pattern),
                                        Product.barcode.ilike(pattern)))
    if "category_id" in args:
        statement = statement.where(Product.category_id == args["category_id"])
    if "active" in args:
        statement = statement.where(Product.active.is_(args["active"]))
    return ordered(statement, Product, args["sort"])


def get_product(product_id: uuid.UUID, lock: bool = False) -> Product:
    return get_or_404(Product, product_id, "product", lock)


def _require_category(category_id: uuid.UUID | None) -> None:
    if category_id is not None and by_id(Category, category_id) is None:
        raise Unprocessable("unknown category", {"category_id": ["no such category"]})


def _require_unique_codes(sku: str | None, barcode: str | None,
                          exclude: uuid.UUID | None = None) -> None:
    """Say which code is taken (the unique constraints stay the guard against races)."""
    errors = {}
    for field, value in (("sku", sku), ("barcode", barcode)):
        if value is not None and value_taken(Product, field, value, exclude):
            errors[field] = [f"another product has this {field}"]
    if errors:
        raise Conflict("SKU or barcode already in use", errors)


def create_product(tenant_id: uuid.UUID, data: dict[str, Any]) -> Product:
    _require_category(data.get("category_id"))
    _require_unique_codes(data["sku"], data.get("barcode"))
    return add_row(Product, tenant_id, data)


def update_product(product: Product, changes: dict[str, Any]) -> Product:
    if "category_id" in changes:
        _require_category(changes["category_id"])
    new_sku, new_barcode = changes.get("sku"), changes.get("barcode")
    _require_unique_codes(new_sku if new_sku != product.sku else None,
                          new_barcode if new_barcode != product.barcode else None,
                          exclude=product.id)
    priced = ("sale_price", "tax_rate", "active")
    before = {key: getattr(product, key) for key in priced}
    updated = apply_changes(product, changes)
    old, new = audit_changes(before, {key: getattr(product, key) for key in priced})
    if new:  # prices, tax and availability: what an auditor asks about
        record_audit(product.tenant_id, "product.changed", target_type="product",
                     target_id=product.id, before={"sku": product.sku, **old}, after=new)
    return updated


def delete_product(product: Product) -> None:
    """Hard-delete a product nothing refers to. With history (stock moves, order lines...) the
    other modules' foreign keys refuse, and the answer is 409: deactivate it instead."""
    try:
        with db.session.begin_nested():
            db.session.delete(product)
            db.session.flush()
    except IntegrityError as exc:
        if not _foreign_key_violation(exc):
            raise
        raise Conflict("the product has history (stock moves or documents) and cannot be "
                       "deleted; deactivate it with PATCH {\"active\": false}") from exc

