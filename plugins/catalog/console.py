"""The catalog's console pages: products (search by name, SKU or barcode, category filter,
create, edit, deactivate, delete when nothing refers to it) and the category tree.

Roles follow the API (plugins/catalog/routes.py): everyone signed in reads, owners and admins
write. Forms load through the API's schemas; views call the services and only flush.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, request, url_for

from core.sdk import (
    Conflict,
    ConsoleBlueprint,
    Unprocessable,
    db,
    page_of,
    read_form,
    redirect_with_notice,
    render_page,
    uuid_arg,
)
from plugins.catalog import services
from plugins.catalog.models import Category
from plugins.catalog.schemas import (
    CategorySchema,
    CategoryUpdateSchema,
    ProductSchema,
    ProductUpdateSchema,
)

READERS = ("owner", "admin", "cashier")
WRITERS = ("owner", "admin")
# Inputs a person may empty on an edit form: blank there means "none", not "unchanged".
_CLEARABLE_PRODUCT = {"barcode": None, "category_id": None, "description": ""}
_CLEARABLE_CATEGORY = {"parent_id": None, "description": ""}

blp = ConsoleBlueprint("catalog_console", __name__, url_prefix="/catalog")
blp.nav("Products", "products", roles=READERS, order=20)
blp.nav("Categories", "categories", roles=READERS, order=21)



def _category_tree() -> list[tuple[Category, int]]:
    """Every category with its depth, parents before their children (sorted by name)."""
    categories = db.session.execute(
        services.list_categories({"sort": "name"})).scalars().all()
    children: dict[Any, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[tuple[Category, int]] = []

    def walk(parent_id, depth):
        for category in children.get(parent_id, []):
            ordered.append((category, depth))
            walk(category.id, depth + 1)

    walk(None, 0)
    return ordered


def _category_options(blank: str = "(none)", exclude: uuid.UUID | None = None):
    options = [("", blank)]
    for category, depth in _category_tree():
        if category.id != exclude:
            options.append((str(category.id), "\u2014 " * depth + category.name))
    return options


def _with_cleared(changes: dict[str, Any], clearable: dict[str, Any]) -> dict[str, Any]:
    for name, empty in clearable.items():
        if name in request.form and request.form[name].strip() == "" and name not in changes:
            changes[name] = empty
    return changes


# --------------------------------------------------------------------------- products


@blp.route("/products")
@blp.page(roles=READERS)
def products():
    search = request.args.get("q", "").strip()[:200]
    category_id = uuid_arg("category_id")
    args: dict[str, Any] = {"sort": "name"}
    if search:
        args["q"] = search
    if category_id:
        args["category_id"] = category_id
    status = request.args.get("status", "")
    if status in ("active", "inactive"):
        args["active"] = status == "active"
    listing = page_of(services.list_products(args))
    names = {str(c.id): c.name for c, _ in _category_tree()}
    query = {k: v for k, v in (("q", search), ("category_id", str(category_id or "")),
                               ("status", status)) if v}
    return render_page("catalog/products.html", title="Products", search=search,
                       category_id=str(category_id or ""), status_filter=status,
                       categories=_category_options("All categories"), category_names=names,
                       query=query, **listing)


def _product_form(product=None, errors=None, status=200, message=None, values=None):
    if values is None:
        values = {} if product is None else {
            name: getattr(product, name) for name in ProductSchema().fields
            if hasattr(product, name)}
    return render_page("catalog/product_form.html",
                       title=f"Product {product.sku}" if product else "New product",
                       product=product, values=values, errors=errors or {}, status=status,
                       message=message, categories=_category_options())


@blp.route("/products/new")
@blp.page(roles=WRITERS)
def new_product():
    return _product_form(values={"unit": "unit", "tax_rate": "0"})


@blp.route("/products/new", methods=["POST"])
@blp.page(roles=WRITERS)
def create_product():
    data, errors = read_form(ProductSchema())
    if errors:
        return _product_form(errors=errors, status=422, values=request.form)
    try:
        product = services.create_product(g.tenant.id, data)
    except (Unprocessable, Conflict) as exc:  # an unknown category; a taken code is a 409 below
        return _product_form(errors=exc.errors, status=exc.status, values=request.form,
                             message=exc.message)
    return redirect_with_notice(url_for("catalog_console.products"),
                                f"Product {product.sku} created.")


@blp.route("/products/<uuid:product_id>")
@blp.page(roles=WRITERS)
def edit_product(product_id):
    return _product_form(services.get_product(product_id))


@blp.route("/products/<uuid:product_id>", methods=["POST"])
@blp.page(roles=WRITERS)
def update_product(product_id):
    product = services.get_product(product_id, lock=True)
    changes, errors = read_form(ProductUpdateSchema())
    if errors:
        return _product_form(product, errors, 422, values=request.form)
    try:
        services.update_product(product, _with_cleared(changes, _CLEARABLE_PRODUCT))
    except (Unprocessable, Conflict) as exc:
        return _product_form(product, exc.errors, exc.status, exc.message, request.form)
    return redirect_with_notice(url_for("catalog_console.products"),
                                f"Product {product.sku} saved.")


@blp.route("/products/<uuid:product_id>/active", methods=["POST"])
@blp.page(roles=WRITERS)
def set_product_active(product_id):
    product = services.get_product(product_id, lock=True)
    active = request.form.get("active") == "1"
    services.update_product(product, {"active": active})
    return redirect_with_notice(url_for("catalog_console.edit_product", product_id=product.id),
                                f"Product {product.sku} "
                                f"{'reactivated' if active else 'deactivated'}.")


@blp.route("/products/<uuid:product_id>/delete", methods=["POST"])
@blp.page(roles=WRITERS)
def delete_product(product_id):
    product = services.get_product(product_id, lock=True)
    sku = product.sku
    services.delete_product(product)  # 409 page when it has history: deactivate instead
    return redirect_with_notice(url_for("catalog_console.products"), f"Product {sku} deleted.")


# --------------------------------------------------------------------------- categories


def _categories_page(errors=None, status=200, message=None, values=None):
    return render_page("catalog/categories.html", title="Categories", tree=_category_tree(),
                       parents=_category_options(), errors=errors or {}, status=status,
                       message=message, values=values or {})


@blp.route("/categories")
@blp.page(roles=READERS)
def categories():
    return _categories_page()


@blp.route("/categories", methods=["POST"])
@blp.page(roles=WRITERS)
def create_category():
    data, errors = read_form(CategorySchema())
    if errors:
        return _categories_page(errors, 422, values=request.form)
    try:
        category = services.create_category(g.tenant.id, data)
    except (Unprocessable, Conflict) as exc:
        return _categories_page(exc.errors, exc.status, exc.message, request.form)
    return redirect_with_notice(url_for("catalog_console.categories"),
                                f"Category {category.name} created.")


def _category_form(category, errors=None, status=200, message=None, values=None):
    values = values if values is not None else {
        "name": category.name, "description": category.description,
        "parent_id": str(category.parent_id or "")}
    return render_page("catalog/category_form.html", title=f"Category {category.name}",
                       category=category, values=values, errors=errors or {}, status=status,
                       message=message, parents=_category_options(exclude=category.id))


@blp.route("/categories/<uuid:category_id>")
@blp.page(roles=WRITERS)
def edit_category(category_id):
    return _category_form(services.get_category(category_id))


@blp.route("/categories/<uuid:category_id>", methods=["POST"])
@blp.page(roles=WRITERS)
def update_category(category_id):
    category = services.get_category(category_id, lock=True)
    changes, errors = read_form(CategoryUpdateSchema())
    if errors:
        return _category_form(category, errors, 422, values=request.form)
    try:
        services.update_category(g.tenant.id, category,
                                 _with_cleared(changes, _CLEARABLE_CATEGORY))
    except (Unprocessable, Conflict) as exc:  # a move under itself or a descendant
        return _category_form(category, exc.errors, exc.status, exc.message, request.form)
    return redirect_with_notice(url_for("catalog_console.categories"),
                                f"Category {category.name} saved.")


@blp.route("/categories/<uuid:category_id>/delete", methods=["POST"])
@blp.page(roles=WRITERS)
def delete_category(category_id):
    category = services.get_category(category_id, lock=True)
    name = category.name
    services.delete_category(category)  # 409 page when it has subcategories or products
    return redirect_with_notice(url_for("catalog_console.categories"),
                                f"Category {name} deleted.")
