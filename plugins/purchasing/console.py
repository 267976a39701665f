"""The purchasing console pages: suppliers (search, create, edit, deactivate), purchase orders
(list by status and supplier, create a draft with lines, detail, order, cancel) and receiving
(partially, per line, into a stock location).

Owners and admins only, like the API (plugins/purchasing/routes.py). Forms load through the
API's schemas; views call the services (which flush) and the request pipeline commits.
"""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from core.sdk import (
    Conflict,
    ConsoleBlueprint,
    Unprocessable,
    actor_names,
    db,
    field_errors,
    form_lines,
    page_of,
    read_form,
    redirect_with_notice,
    render_page,
    uuid_arg,
)
from plugins.catalog.api import Product
from plugins.purchasing import services
from plugins.purchasing.models import ORDER_STATUSES, Supplier
from plugins.purchasing.schemas import (
    PurchaseOrderSchema,
    PurchaseReceiptInputSchema,
    SupplierSchema,
    SupplierUpdateSchema,
)
from plugins.stock.api import Location

ROLES = ("owner", "admin")
FORM_LINES = 5  # blank line rows the new-order form offers
_ORDER_LINE = ("product_id", "quantity", "unit_cost", "tax_rate")
_CLEARABLE_SUPPLIER = {"email": None, "phone": None, "address": "", "notes": ""}

blp = ConsoleBlueprint("purchasing_console", __name__, url_prefix="/purchasing")
blp.nav("Purchase orders", "orders", roles=ROLES, order=40)
blp.nav("Suppliers", "suppliers", roles=ROLES, order=41)


def order_label(order) -> str:
    return f"PO-{order.number:06d}"


@blp.app_template_filter("po_number")
def _po_number(order) -> str:
    return order_label(order)




# --------------------------------------------------------------------------- suppliers


@blp.route("/suppliers")
@blp.page(roles=ROLES)
def suppliers():
    search = request.args.get("q", "").strip()[:200]
    args: dict[str, Any] = {"sort": "name"}
    if search:
        args["q"] = search
    return render_page("purchasing/suppliers.html", title="Suppliers", search=search,
                       query={"q": search} if search else {},
                       **page_of(services.list_suppliers(args)))


def _supplier_form(supplier=None, errors=None, status=200, values=None):
    if values is None:
        values = {} if supplier is None else {
            name: getattr(supplier, name) for name in SupplierSchema().fields
            if hasattr(supplier, name)}
    return render_page("purchasing/supplier_form.html",
                       title=f"Supplier {supplier.name}" if supplier else "New supplier",
                       supplier=supplier, values=values, errors=errors or {}, status=status)


@blp.route("/suppliers/new")
@blp.page(roles=ROLES)
def new_supplier():
    return _supplier_form()


@blp.route("/suppliers/new", methods=["POST"])
@blp.page(roles=ROLES)
def create_supplier():
    data, errors = read_form(SupplierSchema())
    if errors:
        return _supplier_form(errors=errors, status=422, values=request.form)
    supplier = services.create_supplier(g.tenant.id, data)
    return redirect_with_notice(url_for("purchasing_console.suppliers"),
                                f"Supplier {supplier.name} created.")


@blp.route("/suppliers/<uuid:supplier_id>")
@blp.page(roles=ROLES)
def edit_supplier(supplier_id):
    return _supplier_form(services.get_supplier(supplier_id))


@blp.route("/suppliers/<uuid:supplier_id>", methods=["POST"])
@blp.page(roles=ROLES)
def update_supplier(supplier_id):
    supplier = services.get_supplier(supplier_id, lock=True)
    changes, errors = read_form(SupplierUpdateSchema())
    if errors:
        return _supplier_form(supplier, errors, 422, values=request.form)
    for name, empty in _CLEARABLE_SUPPLIER.items():  # blank on an edit form means "none"
        if name in request.form and not request.form[name].strip() and name not in changes:
            changes[name] = empty
    services.update_supplier(supplier, changes)
    return redirect_with_notice(url_for("purchasing_console.suppliers"),
                                f"Supplier {supplier.name} saved.")


# --------------------------------------------------------------------------- orders


def _supplier_names() -> dict:
    return dict(db.session.execute(select(Supplier.id, Supplier.name)).all())


@blp.route("/")
@blp.page(roles=ROLES)
def orders():
    args: dict[str, Any] = {"sort": "-number"}
    status = request.args.get("status", "")
    if status in ORDER_STATUSES:
        args["status"] = status
    supplier_id = uuid_arg("supplier_id")
    if supplier_id:
        args["supplier_id"] = supplier_id
    names = _supplier_names()
    query = {k: v for k, v in (("status", args.get("status", "")),
                               ("supplier_id", str(supplier_id or ""))) if v}
    return render_page("purchasing/orders.html", title="Purchase orders",
                       status_filter=args.get("status", ""), statuses=ORDER_STATUSES,
                       supplier_id=str(supplier_id or ""), supplier_names=names,
                       suppliers=sorted(names.items(), key=lambda item: item[1].lower()),
                       query=query, **page_of(services.list_orders(args)))


def _order_form(errors=None, status=200, message=None):
    lines = form_lines("lines", _ORDER_LINE) if request.method == "POST" else []
    lines += [dict.fromkeys(_ORDER_LINE, "") for _ in range(FORM_LINES)]
    suppliers = db.session.execute(select(Supplier.id, Supplier.name).where(
        Supplier.active.is_(True)).order_by(Supplier.name)).all()
    products = db.session.execute(select(Product.id, Product.sku, Product.name).where(
        Product.active.is_(True)).order_by(Product.name, Product.sku)).all()
    return render_page(
        "purchasing/order_form.html", title="New purchase order", errors=errors or {},
        status=status, message=message, values=request.form, lines=lines,
        suppliers=[("", "Choose a supplier")] + [(str(s.id), s.name) for s in suppliers],
        products=[("", "Choose a product")] + [(str(p.id), f"{p.name} ({p.sku})")
                                               for p in products])


@blp.route("/orders/new")
@blp.page(roles=ROLES)
def new_order():
    return _order_form()


@blp.route("/orders/new", methods=["POST"])
@blp.page(roles=ROLES)
def create_order():
    data, errors = read_form(PurchaseOrderSchema())
    if not errors and not data["lines"]:
        errors = {"lines": ["add at least one line"]}
    if errors:
        return _order_form(errors, 422)
    try:
        order = services.create_order(g.tenant.id, data, g.identity.actor)
    except Unprocessable as exc:  # unknown or inactive supplier or product
        return _order_form(field_errors(exc.errors or {}), exc.status, exc.message)
    return redirect_with_notice(url_for("purchasing_console.order", order_id=order.id),
                                f"Draft {order_label(order)} created.")


def _order_page(order, template="purchasing/order.html", errors=None, status=200,
                message=None):
    supplier = services.get_supplier(order.supplier_id)
    ids = {line.product_id for line in order.lines}
    products = {p.id: p for p in db.session.execute(
        select(Product).where(Product.id.in_(ids))).scalars()} if ids else {}
    receipts = db.session.execute(services.list_receipts(order.id)).scalars().all()
    return render_page(template, title=order_label(order), order=order, supplier=supplier,
                       products=products, receipts=receipts, errors=errors or {},
                       actors=actor_names(r.received_by for r in receipts),
                       status=status, message=message, values=request.form,
                       locations=_locations())


@blp.route("/orders/<uuid:order_id>")
@blp.page(roles=ROLES)
def order(order_id):
    return _order_page(services.get_order(order_id))


@blp.route("/orders/<uuid:order_id>/order", methods=["POST"])
@blp.page(roles=ROLES)
def place_order(order_id):
    placed = services.place_order(services.get_order(order_id, lock=True))
    return redirect_with_notice(url_for("purchasing_console.order", order_id=placed.id),
                                f"{order_label(placed)} ordered.")


@blp.route("/orders/<uuid:order_id>/cancel", methods=["POST"])
@blp.page(roles=ROLES)
def cancel_order(order_id):
    cancelled = services.cancel_order(services.get_order(order_id, lock=True))
    return redirect_with_notice(url_for("purchasing_console.order", order_id=cancelled.id),
                                f"{order_label(cancelled)} cancelled.")


# --------------------------------------------------------------------------- receiving


def _locations() -> list[tuple[str, str]]:
    """The active stock locations goods can be received into, the default one first."""
    rows = db.session.execute(select(Location).where(Location.active.is_(True)).order_by(
        Location.is_default.desc(), Location.code)).scalars()
    return [(str(row.id), f"{row.code} — {row.name}") for row in rows]


@blp.route("/orders/<uuid:order_id>/receive")
@blp.page(roles=ROLES)
def receive_form(order_id):
    return _order_page(services.get_order(order_id), "purchasing/receive.html")


@blp.route("/orders/<uuid:order_id>/receive", methods=["POST"])
@blp.page(roles=ROLES)
def receive(order_id):
    current = services.get_order(order_id)
    lines, errors = [], {}
    for line in current.lines:
        quantity = request.form.get(f"quantity-{line.id}", "").strip()
        if quantity and quantity not in ("0", "0.0", "0.000"):
            lines.append({"line_id": str(line.id), "quantity": quantity})
    payload = {"note": request.form.get("note", "").strip(), "lines": lines}
    if request.form.get("location_id"):
        payload["location_id"] = request.form["location_id"]
    try:
        data = PurchaseReceiptInputSchema().load(payload)
    except ValidationError as exc:
        errors = field_errors(exc.messages if isinstance(exc.messages, dict) else {})
    if not errors and not lines:
        errors = {"lines": ["enter the quantity received on at least one line"]}
    if errors:
        # Receipt-line errors are per posted line: name the order line's input instead.
        errors = {(f"quantity-{lines[int(key.split('-')[1])]['line_id']}"
                   if key.startswith("lines-") else key): value
                  for key, value in errors.items()}
        return _order_page(current, "purchasing/receive.html", errors, 422)
    try:
        receipt, received = services.receive(
            g.tenant.id, order_id, data, g.identity.actor,
            allow_over=services.over_receipt_allowed(g.tenant.id))
    except (Conflict, Unprocessable) as exc:  # over-receipt, closed order, bad location
        return _order_page(services.get_order(order_id), "purchasing/receive.html",
                           field_errors(exc.errors or {}), exc.status, exc.message)
    return redirect_with_notice(url_for("purchasing_console.order", order_id=received.id),
                                f"Received {len(receipt.lines)} line(s) on "
                                f"{order_label(received)}.")
