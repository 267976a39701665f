"""``/api/v1/catalog``: products and categories.

Owners and admins write; cashiers read (they sell from the catalog). Admin-role API keys pass
where ``admin`` is listed.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.sdk import Blueprint, SQLPage, db
from plugins.catalog import services
from plugins.catalog.schemas import (
    CategoryQueryArgsSchema,
    CategorySchema,
    CategoryUpdateSchema,
    ProductQueryArgsSchema,
    ProductSchema,
    ProductUpdateSchema,
)

blp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog",
                description="Products and the category tree")

READERS = ("owner", "admin", "cashier")
WRITERS = ("owner", "admin")



# --------------------------------------------------------------------------- categories


@blp.route("/categories")
class Categories(MethodView):
    @blp.arguments(CategoryQueryArgsSchema, location="query")
    @blp.response(200, CategorySchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*READERS)
    def get(self, args):
        """List categories (filter by parent, search by name)."""
        return services.list_categories(args)

    @blp.arguments(CategorySchema)
    @blp.response(201, CategorySchema)
    @blp.error(409, "A sibling category has this name")
    @blp.error(422, "Invalid fields, or the parent category does not exist")
    @blp.requires_roles(*WRITERS)
    def post(self, data):
        """Create a category."""
        category = services.create_category(g.tenant.id, data)
        db.session.flush()
        return category


@blp.route("/categories/<uuid:category_id>")
class CategoryById(MethodView):
    @blp.etag
    @blp.response(200, CategorySchema)
    @blp.error(404, "No such category")
    @blp.requires_roles(*READERS)
    def get(self, category_id):
        """Get a category."""
        return services.get_category(category_id)

    @blp.etag
    @blp.arguments(CategoryUpdateSchema)
    @blp.response(200, CategorySchema)
    @blp.error(404, "No such category")
    @blp.error(409, "A sibling category has this name")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.error(422, "Invalid fields; unknown parent; or the new parent is the category itself or "
                 "one of its descendants")
    @blp.requires_roles(*WRITERS)
    def patch(self, changes, category_id):
        """Rename, describe or move a category (ETag: send If-Match)."""
        category = services.get_category(category_id, lock=True)
        blp.check_etag(category, CategorySchema)
        services.update_category(g.tenant.id, category, changes)
        db.session.flush()
        return category

    @blp.etag
    @blp.response(204)
    @blp.error(404, "No such category")
    @blp.error(409, "The category has subcategories or products")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.requires_roles(*WRITERS)
    def delete(self, category_id):
        """Delete an empty category."""
        category = services.get_category(category_id, lock=True)
        blp.check_etag(category, CategorySchema)
        services.delete_category(category)
        db.session.flush()


# --------------------------------------------------------------------------- products


@blp.route("/products")
class Products(MethodView):
    @blp.arguments(ProductQueryArgsSchema, location="query")
    @blp.response(200, ProductSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*READERS)
    def get(self, args):
        """List products (search, filter by category and active flag, sort)."""
        return services.list_products(args)

    @blp.arguments(ProductSchema)
    @blp.response(201, ProductSchema)
    @blp.error(409, "The SKU or barcode is used by another product")
    @blp.error(422, "Invalid fields, or the category does not exist")
    @blp.requires_roles(*WRITERS)
    def post(self, data):
        """Create a product."""
        product = services.create_product(g.tenant.id, data)
        db.session.flush()
        return product


@blp.route("/products/<uuid:product_id>")
class ProductById(MethodView):
    @blp.etag
    @blp.response(200, ProductSchema)
    @blp.error(404, "No such product")
    @blp.requires_roles(*READERS)
    def get(self, product_id):
        """Get a product."""
        return services.get_product(product_id)

    @blp.etag
    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    @blp.error(404, "No such product")
    @blp.error(409, "The SKU or barcode is used by another product")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.error(422, "Invalid fields, or the category does not exist")
    @blp.requires_roles(*WRITERS)
    def patch(self, changes, product_id):
        """Update a product; {"active": false} deactivates it (ETag: send If-Match)."""
        product = services.get_product(product_id, lock=True)
        blp.check_etag(product, ProductSchema)
        services.update_product(product, changes)
        db.session.flush()
        return product

    @blp.etag
    @blp.response(204)
    @blp.error(404, "No such product")
    @blp.error(409, "The product has history (stock moves, documents): deactivate it instead")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.requires_roles(*WRITERS)
    def delete(self, product_id):
        """Delete a product that has no history."""
        product = services.get_product(product_id, lock=True)
        blp.check_etag(product, ProductSchema)
        services.delete_product(product)
        db.session.flush()
