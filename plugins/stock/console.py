"""The stock console pages: balances per product and location (search, location filter),
a product's ledger (its stock moves), manual moves (receipts, signed adjustments, returns),
physical counts and transfers between locations; a "Low stock" dashboard tile.

Roles follow the API (plugins/stock/routes.py): everyone signed in reads balances; the ledger
and every posting are for owners and admins. Forms load through the API's schemas, views call
the services (which flush) and the request pipeline commits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import g, request, url_for
from sqlalchemy import func, or_, select

from core.sdk import (
    Conflict,
    ConsoleBlueprint,
    Unprocessable,
    actor_names,
    contains_pattern,
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
from plugins.stock import services
from plugins.stock.models import Location, StockBalance, StockCost
from plugins.stock.schemas import StockCountSchema, StockManualMoveSchema, StockTransferSchema

READERS = ("owner", "admin", "cashier")
WRITERS = ("owner", "admin")
FORM_LINES = 5  # blank line rows a count or transfer form offers

blp = ConsoleBlueprint("stock_console", __name__, url_prefix="/stock")
blp.nav("Stock", "balances", roles=READERS, order=30)


@blp.dashboard_tile("Low stock", roles=READERS)
def low_stock_tile():
    # The catalog has no minimum quantity: "low" is nothing (or less) on hand.
    on_hand = func.coalesce(StockCost.quantity, 0)
    count = db.session.execute(
        select(func.count()).select_from(Product)
        .outerjoin(StockCost, StockCost.product_id == Product.id)
        .where(Product.active.is_(True), on_hand <= 0)).scalar_one()
    return [("Active products with none on hand", str(count))]



def _locations(active_only: bool = True) -> list[Location]:
    args = {"active": True} if active_only else {}
    return db.session.execute(services.list_locations(args)).scalars().all()


def _location_options(blank: str | None = None) -> list[tuple[str, str]]:
    options = [("", blank)] if blank is not None else []
    return options + [(str(location.id), f"{location.code} — {location.name}")
                      for location in _locations()]


def _product_options() -> list[tuple[str, str]]:
    products = db.session.execute(
        select(Product.id, Product.sku, Product.name).where(Product.active.is_(True))
        .order_by(Product.name, Product.sku)).all()
    return [("", "Choose a product")] + [(str(p.id), f"{p.name} ({p.sku})") for p in products]



# --------------------------------------------------------------------------- balances


@blp.route("/")
@blp.page(roles=READERS)
def balances():
    search = request.args.get("q", "").strip()[:200]
    location_id = uuid_arg("location_id")
    nonzero = request.args.get("nonzero") == "1"
    args: dict[str, Any] = {"nonzero": nonzero}
    if location_id:
        args["location_id"] = location_id
    statement = (services.list_balances(args)
                 .join(Product, Product.id == StockBalance.product_id)
                 .join(Location, Location.id == StockBalance.location_id)
                 .add_columns(Product.sku, Product.name, Location.code)
                 .order_by(None).order_by(Product.name, Product.sku, Location.code))
    if search:
        pattern = contains_pattern(search)
        statement = statement.where(or_(Product.name.ilike(pattern), Product.sku.ilike(pattern),
                                        Product.barcode.ilike(pattern)))
    query = {k: v for k, v in (("q", search), ("location_id", str(location_id or "")),
                               ("nonzero", "1" if nonzero else "")) if v}
    return render_page("stock/balances.html", title="Stock", search=search,
                       location_id=str(location_id or ""), nonzero=nonzero, query=query,
                       locations=_location_options("All locations"), **page_of(statement))


@blp.route("/products/<uuid:product_id>")
@blp.page(roles=WRITERS)
def ledger(product_id):
    stock = services.product_stock(product_id)  # 404 for an id that is not this tenant's
    product = db.session.execute(select(Product).where(Product.id == product_id)).scalar_one()
    codes = {location.id: location.code for location in _locations(active_only=False)}
    moves = page_of(services.list_moves({"product_id": product_id, "sort": "-created_at"}))
    return render_page("stock/ledger.html", title=f"Stock of {product.sku}", product=product,
                       stock=stock, codes=codes,
                       actors=actor_names(move.actor for move in moves["rows"]), **moves)


# --------------------------------------------------------------------------- postings


def _move_form(errors=None, status=200, message=None, values=None):
    values = values if values is not None else {
        "product_id": request.args.get("product_id", ""), "reason": "adjustment"}
    return render_page("stock/move_form.html", title="Stock adjustment", errors=errors or {},
                       status=status, message=message, values=values,
                       products=_product_options(), locations=_location_options(),
                       reasons=[("receipt", "Receipt (goods in)"),
                                ("adjustment", "Adjustment (signed: negative writes off)"),
                                ("return", "Return (goods back in)")])


@blp.route("/adjustments")
@blp.page(roles=WRITERS)
def new_move():
    return _move_form()


@blp.route("/adjustments", methods=["POST"])
@blp.page(roles=WRITERS)
def post_move():
    data, errors = read_form(StockManualMoveSchema())
    if errors:
        return _move_form(errors, 422, values=request.form)
    try:
        services.post_moves(g.tenant.id, [services.MoveRequest(**data)], g.identity.actor,
                            allow_negative=services.negative_stock_allowed(g.tenant.id))
    except (Unprocessable, Conflict) as exc:
        # Errors of the one move come back under moves.0; show them at the inputs.
        errors = (exc.errors or {}).get("moves", {}).get("0", {}) if isinstance(
            (exc.errors or {}).get("moves"), dict) else {}
        return _move_form(errors, exc.status, exc.message, request.form)
    return redirect_with_notice(url_for("stock_console.ledger", product_id=data["product_id"]),
                                "Stock move posted.")


def _lines_form(template: str, title: str, names: tuple[str, ...], errors=None, status=200,
                message=None):
    lines = form_lines("lines", names) if request.method == "POST" else []
    lines += [dict.fromkeys(names, "") for _ in range(FORM_LINES)]
    return render_page(template, title=title, errors=errors or {}, status=status,
                       message=message, values=request.form, lines=lines,
                       products=_product_options(), locations=_location_options())


_COUNT_LINE = ("product_id", "counted_quantity", "unit_cost")
_TRANSFER_LINE = ("product_id", "quantity")


@blp.route("/counts")
@blp.page(roles=WRITERS)
def new_count():
    return _lines_form("stock/count_form.html", "Stock count", _COUNT_LINE)


@blp.route("/counts", methods=["POST"])
@blp.page(roles=WRITERS)
def post_count():
    data, errors = read_form(StockCountSchema())
    if errors:
        return _lines_form("stock/count_form.html", "Stock count", _COUNT_LINE, errors, 422)
    try:
        result = services.count(g.tenant.id, data["location_id"], data["lines"], data["note"],
                                g.identity.actor)
    except (Unprocessable, Conflict) as exc:
        return _lines_form("stock/count_form.html", "Stock count", _COUNT_LINE,
                           field_errors(exc.errors or {}), exc.status, exc.message)
    changed = sum(1 for line in result["lines"] if line["difference"] != Decimal(0))
    return redirect_with_notice(url_for("stock_console.balances"),
                                f"Count recorded: {changed} balance(s) corrected.")


@blp.route("/transfers")
@blp.page(roles=WRITERS)
def new_transfer():
    return _lines_form("stock/transfer_form.html", "Stock transfer", _TRANSFER_LINE)


@blp.route("/transfers", methods=["POST"])
@blp.page(roles=WRITERS)
def post_transfer():
    data, errors = read_form(StockTransferSchema())
    if errors:
        return _lines_form("stock/transfer_form.html", "Stock transfer", _TRANSFER_LINE,
                           errors, 422)
    try:
        services.transfer(g.tenant.id, data["from_location_id"], data["to_location_id"],
                          data["lines"], data["note"], g.identity.actor,
                          allow_negative=services.negative_stock_allowed(g.tenant.id))
    except (Unprocessable, Conflict) as exc:
        return _lines_form("stock/transfer_form.html", "Stock transfer", _TRANSFER_LINE,
                           field_errors(exc.errors or {}), exc.status, exc.message)
    return redirect_with_notice(url_for("stock_console.balances"), "Transfer posted.")
