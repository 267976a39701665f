"""The POS console: the till (touch screen and barcode scanner), receipts, refunds, shift
reports, and the owner's registers and cash-register provider.

The till keeps the cart in its URL (plugins/pos/cart.py): scanning, searching and changing
quantities are GETs that change nothing on the server. Pay, refunds, cash movements and shift
changes are POSTs with the page's CSRF token; Pay and Refund also carry a hidden
Idempotency-Key generated when the page was drawn, so a double click, a reload after a timeout
or a retried request shows the same receipt and sells once (core.sdk.run_once, waiting for the
first request instead of answering 409). Every write goes through the same services as
``/api/v1/pos``.

Offline, the till's script (static/till-offline.js) sells from a copy of the catalogue
(``till_catalogue``) and queues the sales on the device; ``till_sync`` records the queue once
back online, through the same batch sync as the API (each sale once, whatever is re-sent).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import g, jsonify, request, url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, or_, select

from core.sdk import (
    Conflict,
    ConsoleBlueprint,
    Unprocessable,
    contains_pattern,
    db,
    read_form,
    redirect_with_notice,
    render_page,
    run_once,
)
from plugins.catalog.api import Product
from plugins.pos import cart, fiscal, offline, receipts, refunds, registers, shifts
from plugins.pos.models import FISCAL_MODES, PAYMENT_METHODS, Receipt, Refund, Register, Shift
from plugins.pos.schemas import (
    PosCashMovementSchema,
    PosCloseShiftSchema,
    PosReceiptBatchSchema,
    PosReceiptSchema,
    PosRefundSchema,
    PosRegisterSchema,
    PosShiftSchema,
)
from plugins.sales.api import LineInput, discount_from, price

OWNER = ("owner",)
STAFF = ("owner", "admin", "cashier")
KEY_FIELD = "idempotency_key"

blp = ConsoleBlueprint("pos_console", __name__, url_prefix="/pos", static_folder="static")
blp.nav("Till", "home", roles=STAFF, order=10)
blp.settings_panel("Cash registers", "registers",
                   "registers, their codes, and which fiscal provider signs receipts")


# --------------------------------------------------------------------------- dashboard


@blp.dashboard_tile("Today's sales", roles=STAFF)
def todays_sales():
    since = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    count, total = db.session.execute(
        select(func.count(Receipt.id), func.coalesce(func.sum(Receipt.total), 0))
        .where(Receipt.created_at >= since)).one()
    refunded = db.session.execute(select(func.coalesce(func.sum(Refund.total), 0))
                                  .where(Refund.created_at >= since)).scalar_one()
    return [("Receipts", str(count)), ("Sales", f"{total:.2f}"), ("Refunds", f"{refunded:.2f}")]


@blp.dashboard_tile("Open shifts", roles=STAFF)
def open_shifts():
    count = db.session.execute(
        select(func.count(Shift.id)).where(Shift.status == "open")).scalar_one()
    return [("Registers selling now", str(count))]


# --------------------------------------------------------------------------- the till


@blp.route("/")
@blp.page(roles=STAFF)
def home():
    registers = db.session.execute(
        select(Register).where(Register.active.is_(True)).order_by(Register.code)).scalars()
    open_by_register = {shift.register_id: shift for shift in db.session.execute(
        select(Shift).where(Shift.status == "open")).scalars()}
    return render_page("pos/home.html", title="Till", registers=list(registers),
                       shifts=open_by_register)


def _cart_products(lines: list[cart.CartLine]) -> dict[uuid.UUID, Any]:
    ids = [line.product_id for line in lines]
    if not ids:
        return {}
    return {p.id: p for p in db.session.execute(
        select(Product).where(Product.id.in_(ids))).scalars()}


def _order_discount() -> Decimal | None:
    text = request.values.get("od", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise cart.CartError("the order discount is not a number") from exc
    if not value.is_finite() or not 0 <= value <= 100:
        raise cart.CartError("the order discount is a percentage from 0 to 100")
    return value or None


def _preview(lines: list[cart.CartLine], products: dict, order_discount: Decimal | None):
    """The cart priced as the receipt will be (the sales module's arithmetic)."""
    priced_lines = [line for line in lines if line.product_id in products]
    document = price(
        [LineInput(line.quantity, products[line.product_id].sale_price,
                   products[line.product_id].tax_rate,
                   discount_from({"kind": "percent", "value": line.discount_percent})
                   if line.discount_percent else None) for line in priced_lines],
        discount_from({"kind": "percent", "value": order_discount}) if order_discount else None)
    return list(zip(priced_lines, document.lines, strict=True)), document


def _till_url(register_id: uuid.UUID, lines: list[cart.CartLine], order_discount=None) -> str:
    args = {"cart": cart.dump(lines)} if lines else {}
    if order_discount:
        args["od"] = f"{order_discount.normalize():f}"
    return url_for("pos_console.till", register_id=register_id, **args)


def _find(term: str) -> list[Any]:
    """Products for the scan field: the exact barcode or SKU first, else names containing it."""
    exact = db.session.execute(select(Product).where(
        Product.active.is_(True), or_(Product.barcode == term, Product.sku == term))).scalars()
    found = list(exact)
    if found:
        return found
    return list(db.session.execute(select(Product).where(
        Product.active.is_(True), Product.name.ilike(contains_pattern(term), escape="\\"))
        .order_by(Product.name).limit(20)).scalars())


def _render_till(register: Register, shift: Shift | None, lines, order_discount, *,
                 status: int = 200, message: str | None = None, results=(), term: str = ""):
    products = _cart_products(lines)
    priced, document = _preview(lines, products, order_discount)
    return render_page(
        "pos/till.html", title=f"Till {register.code}", status=status, message=message,
        register=register, shift=shift, priced=priced, products=products, document=document,
        lines=lines, cart_text=cart.dump(lines), order_discount=order_discount,
        results=results, term=term,
        payment_methods=PAYMENT_METHODS, idempotency_key=uuid.uuid4().hex,
        till_url=lambda new_lines, od=order_discount: _till_url(register.id, new_lines, od),
        cart=cart)


@blp.route("/registers/<uuid:register_id>/till")
@blp.page(roles=STAFF)
def till(register_id: uuid.UUID):
    register = registers.get_register(register_id)
    shift = shifts.open_shift_of(register.id)
    try:
        lines = cart.parse(request.args.get("cart"))
        order_discount = _order_discount()
        if "add" in request.args:
            lines = cart.add(lines, uuid.UUID(request.args["add"]))
        elif "set" in request.args:
            quantity = Decimal(request.args.get("qty", "0"))
            if not quantity.is_finite() or not 0 <= quantity <= cart.MAX_QUANTITY:
                raise cart.CartError("a quantity is between 0 and 10000")
            lines = cart.set_quantity(lines, uuid.UUID(request.args["set"]), quantity)
        elif "discount" in request.args:
            percent = Decimal(request.args.get("percent") or "0")
            if not percent.is_finite() or not 0 <= percent <= 100:
                raise cart.CartError("a discount is a percentage from 0 to 100")
            lines = cart.set_discount(lines, uuid.UUID(request.args["discount"]), percent)
        elif request.args.get("q", "").strip():
            term = request.args["q"].strip()[:100]
            found = _find(term)
            if len(found) == 1 and term in (found[0].barcode, found[0].sku):
                lines = cart.add(lines, found[0].id)
            else:
                message = None if found else f"No product matches \"{term}\"."
                return _render_till(register, shift, lines, order_discount, results=found,
                                    term=term, message=message)
        else:
            return _render_till(register, shift, lines, order_discount)
    except (cart.CartError, ValueError, InvalidOperation) as exc:
        message = str(exc) if isinstance(exc, cart.CartError) else "invalid cart change"
        return _render_till(register, shift, [], None, status=422, message=message)
    return redirect_with_notice(_till_url(register.id, lines, order_discount))


# --------------------------------------------------------------------------- offline selling
# The till's script (static/till-offline.js) keeps selling when the network is gone: it loads
# this catalogue while online, queues each offline sale on the device with its own id and time,
# and sends the queue to ``till_sync`` once back (the API's batch sync: each sale recorded
# once, in order, whatever is re-sent). docs/sales-and-pos.md, "Offline selling".


@blp.route("/registers/<uuid:register_id>/till/catalogue")
@blp.page(roles=STAFF)
def till_catalogue(register_id: uuid.UUID):
    """The active products as the offline till needs them (price and tax rate as text)."""
    registers.get_register(register_id)
    rows = db.session.execute(
        select(Product.id, Product.name, Product.sku, Product.barcode, Product.sale_price,
               Product.tax_rate)
        .where(Product.active.is_(True)).order_by(Product.name, Product.id)).all()
    return jsonify({"register_id": str(register_id), "products": [
        {"id": str(row.id), "name": row.name, "sku": row.sku, "barcode": row.barcode,
         "price": f"{row.sale_price:.2f}", "tax_rate": f"{row.tax_rate:.2f}"}
        for row in rows]})


@blp.route("/registers/<uuid:register_id>/till/sync", methods=["POST"])
@blp.page(roles=STAFF)
def till_sync(register_id: uuid.UUID):
    """Record the device's queue of offline sales (JSON, the page's CSRF token in the
    X-CSRF-Token header); answers each sale's outcome, as the API's batch sync does."""
    registers.get_register(register_id)
    try:
        data = PosReceiptBatchSchema().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify({"message": "the queue is not valid", "errors": exc.messages}), 422
    result = offline.sync_batch(data["receipts"], lambda item: receipts.create_receipt(
        g.tenant.id, register_id, item, g.identity.actor))
    return jsonify({**{key: result[key] for key in ("created", "replayed", "failed")},
                    "results": [{"client_receipt_id": str(outcome["client_receipt_id"]),
                                 "status": outcome["status"],
                                 "receipt_id": str(outcome["receipt"].id)
                                 if "receipt" in outcome else None,
                                 "total": f"{outcome['receipt'].total:.2f}"
                                 if "receipt" in outcome else None,
                                 "message": _outcome_message(outcome)}
                                for outcome in result["results"]]})


def _outcome_message(outcome: dict[str, Any]) -> str | None:
    error = outcome.get("error")
    if error is None:
        return None
    details = f" ({_first_error(error['errors'])})" if error.get("errors") else ""
    return error["message"] + details


@blp.route("/registers/<uuid:register_id>/shift", methods=["POST"])
@blp.page(roles=STAFF)
def open_shift(register_id: uuid.UUID):
    data, errors = read_form(PosShiftSchema())
    if errors:
        register = registers.get_register(register_id)
        return _render_till(register, None, [], None, status=422,
                            message="Check the opening cash: " + _first_error(errors))
    shifts.open_shift(g.tenant.id, register_id, data, g.identity.actor)
    return redirect_with_notice(url_for("pos_console.till", register_id=register_id),
                                "Shift opened.")


def _first_error(errors: dict) -> str:
    field, messages = next(iter(errors.items()))
    text = messages[0] if isinstance(messages, list) and messages else str(messages)
    return f"{field}: {text}"


@blp.route("/registers/<uuid:register_id>/pay", methods=["POST"])
@blp.page(roles=STAFF)
def pay(register_id: uuid.UUID):
    register = registers.get_register(register_id)
    try:
        lines = cart.parse(request.form.get("cart"))
        order_discount = _order_discount()
    except cart.CartError as exc:
        return _render_till(register, shifts.open_shift_of(register.id), [], None,
                            status=422, message=str(exc))
    if not lines:
        return _render_till(register, shifts.open_shift_of(register.id), [], None,
                            status=422, message="Scan at least one product before paying.")
    products = _cart_products(lines)
    _, document = _preview(lines, products, order_discount)
    method = request.form.get("method", "cash")
    tendered = request.form.get("tendered", "").strip() or f"{document.total:.2f}"
    body = {"lines": cart.receipt_lines(lines),
            "payments": [{"method": method, "amount": tendered}],
            **({"discount": {"kind": "percent", "value": f"{order_discount:.2f}"}}
               if order_discount else {})}

    def sell():
        data = PosReceiptSchema().load(body)
        receipt = receipts.create_receipt(g.tenant.id, register.id, data,
                                          g.identity.actor).receipt
        return render_page("pos/receipt.html", title=f"Receipt {receipt.id.hex[:8]}",
                           receipt=receipt, register=register, fresh=True)

    try:
        return run_once(request.form.get(KEY_FIELD), sell, wait=True, field=KEY_FIELD)
    except Exception as exc:  # noqa: BLE001 - shown on the till, the cart kept
        status, message = _answer_of(exc)
        return _render_till(register, shifts.open_shift_of(register.id), lines,
                            order_discount, status=status, message=message)


def _answer_of(exc: Exception) -> tuple[int, str]:
    """(status, message) for an error shown on the till; anything else is raised again."""
    from marshmallow import ValidationError

    if isinstance(exc, ValidationError):
        return 422, "Check the payment: " + _first_error(exc.messages)
    if isinstance(exc, Unprocessable | Conflict):
        details = f" ({_first_error(exc.errors)})" if exc.errors else ""
        return exc.status, exc.message + details
    raise exc


# --------------------------------------------------------------------------- receipts, refunds


@blp.route("/receipts/<uuid:receipt_id>")
@blp.page(roles=STAFF)
def receipt(receipt_id: uuid.UUID):
    found = receipts.get_receipt(receipt_id)
    return render_page("pos/receipt.html", title=f"Receipt {found.id.hex[:8]}",
                       receipt=found, register=registers.get_register(found.register_id),
                       fresh=False)


def _refund_form(found: Receipt, *, status=200, message=None):
    already = refunds.refunded_so_far(found.id)
    remaining = {line.id: line.quantity - already.get(line.id, (Decimal("0"),))[0]
                 for line in found.lines}
    return render_page("pos/refund_form.html", title="Refund", status=status, message=message,
                       receipt=found, remaining=remaining, payment_methods=PAYMENT_METHODS,
                       idempotency_key=uuid.uuid4().hex)


@blp.route("/receipts/<uuid:receipt_id>/refund")
@blp.page(roles=STAFF)
def refund_form(receipt_id: uuid.UUID):
    return _refund_form(receipts.get_receipt(receipt_id))


@blp.route("/receipts/<uuid:receipt_id>/refund", methods=["POST"])
@blp.page(roles=STAFF)
def refund(receipt_id: uuid.UUID):
    found = receipts.get_receipt(receipt_id)
    lines = []
    for line in found.lines:
        quantity = request.form.get(f"qty-{line.id}", "").strip()
        if quantity and quantity != "0":
            lines.append({"receipt_line_id": str(line.id), "quantity": quantity})
    if not lines:
        return _refund_form(found, status=422, message="Enter a quantity to refund.")
    body = {"method": request.form.get("method", "cash"),
            "reason": request.form.get("reason", ""), "lines": lines}

    def give_back():
        data = PosRefundSchema().load(body)
        done = refunds.create_refund(g.tenant.id, found.id, data, g.identity.actor)
        return render_page("pos/refund.html", title="Refund", refund=done, receipt=found)

    try:
        return run_once(request.form.get(KEY_FIELD), give_back, wait=True, field=KEY_FIELD)
    except Exception as exc:  # noqa: BLE001 - shown on the form
        status, message = _answer_of(exc)
        return _refund_form(found, status=status, message=message)


# --------------------------------------------------------------------------- shifts


def _staff_shift(shift_id: uuid.UUID) -> Shift:
    return shifts.get_shift(shift_id)


@blp.route("/shifts/<uuid:shift_id>/cash", methods=["POST"])
@blp.page(roles=STAFF)
def cash_movement(shift_id: uuid.UUID):
    shift = _staff_shift(shift_id)
    data, errors = read_form(PosCashMovementSchema())
    if errors:
        return redirect_with_notice(url_for("pos_console.till", register_id=shift.register_id),
                                    "Cash not recorded: " + _first_error(errors))
    shifts.add_cash_movement(g.tenant.id, shift.id, data, g.identity.actor)
    verb = "in" if data["kind"] == "in" else "out"
    return redirect_with_notice(url_for("pos_console.till", register_id=shift.register_id),
                                f"Cash {verb}: {data['amount']:.2f} recorded.")


@blp.route("/shifts/<uuid:shift_id>/x-report")
@blp.page(roles=STAFF)
def x_report(shift_id: uuid.UUID):
    report = shifts.x_report(shift_id)
    return render_page("pos/shift_report.html", title="X report", report=report,
                       register=registers.get_register(report["register_id"]))


@blp.route("/shifts/<uuid:shift_id>/z-report")
@blp.page(roles=STAFF)
def z_report(shift_id: uuid.UUID):
    report = shifts.z_report(shift_id)
    return render_page("pos/shift_report.html", title="Z report", report=report,
                       register=registers.get_register(report["register_id"]))


@blp.route("/shifts/<uuid:shift_id>/close", methods=["GET", "POST"])
@blp.page(roles=STAFF)
def close_shift(shift_id: uuid.UUID):
    shift = _staff_shift(shift_id)
    register = registers.get_register(shift.register_id)
    errors: dict = {}
    if request.method == "POST":
        data, errors = read_form(PosCloseShiftSchema())
        if not errors:
            shifts.close_shift(g.tenant.id, shift.id, data, g.identity.actor)
            return redirect_with_notice(url_for("pos_console.z_report", shift_id=shift.id),
                                        "Shift closed.")
    if shift.status != "open":
        raise Conflict("the shift is closed")
    return render_page("pos/close.html", title="Close shift", shift=shift, register=register,
                       report=shifts.x_report(shift.id), errors=errors,
                       status=422 if errors else 200)


# --------------------------------------------------------------------------- registers (owner)


class ProviderFormSchema(Schema):
    cash_register_provider = fields.String(load_default=None, validate=validate.Length(max=63))
    fiscal_mode = fields.String(load_default=None, validate=validate.OneOf(FISCAL_MODES))


def _registers_page(errors=None, status=200, form=None):
    registers = db.session.execute(select(Register).order_by(Register.code)).scalars().all()
    return render_page("pos/registers.html", title="Cash registers", registers=registers,
                       errors=errors or {}, form=form or {}, status=status,
                       provider=fiscal.settings_row(g.tenant.id),
                       effective_provider=fiscal.provider_name(g.tenant.id),
                       providers=sorted(fiscal.providers()))


@blp.route("/registers", endpoint="registers")
@blp.page(roles=OWNER)
def manage_registers():
    return _registers_page()


@blp.route("/registers", methods=["POST"])
@blp.page(roles=OWNER)
def create_register():
    data, errors = read_form(PosRegisterSchema())
    if errors:
        return _registers_page(errors, 422, request.form)
    try:
        register = registers.create_register(g.tenant.id, data)
    except Conflict as exc:
        return _registers_page(exc.errors or {"code": [exc.message]}, 409, request.form)
    return redirect_with_notice(url_for("pos_console.registers"),
                                f"Register {register.code} created.")


@blp.route("/registers/<uuid:register_id>/active", methods=["POST"])
@blp.page(roles=OWNER)
def set_register_active(register_id: uuid.UUID):
    register = registers.get_register(register_id, lock="update")
    active = request.form.get("active") == "1"
    registers.update_register(register, {"active": active})
    state = "activated" if active else "deactivated"
    return redirect_with_notice(url_for("pos_console.registers"),
                                f"Register {register.code} {state}.")


@blp.route("/settings/provider", methods=["POST"])
@blp.page(roles=OWNER)
def set_provider():
    data, errors = read_form(ProviderFormSchema())
    if errors:
        return _registers_page(errors, 422)
    try:
        fiscal.set_provider(g.tenant.id, data.get("cash_register_provider") or None,
                            g.identity.actor, data.get("fiscal_mode"))
    except Unprocessable as exc:
        return _registers_page(exc.errors, 422)
    return redirect_with_notice(url_for("pos_console.registers"), "Fiscal provider saved.")
