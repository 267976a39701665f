"""Purchasing operations: suppliers, the purchase-order life cycle and receiving.

draft --order--> ordered --receive--> partially_received --receive--> received
draft/ordered --cancel--> cancelled

Receiving posts stock receipt moves through the stock module's hook (never its code), at each
line's unit cost, which also moves the products' average cost. Explicit arguments, flush never
commit, ``core.errors`` for refusals.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, select, text

from core.sdk import (
    Conflict,
    ContactBook,
    Unprocessable,
    call_if_enabled,
    db,
    get_or_404,
    module_state,
    ordered,
    where_given,
)
from plugins.catalog.api import Product
from plugins.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
    Supplier,
)

MODULE_KEY = "purchasing"
RECEIPT_REFERENCE = "purchase_receipt"
EDITABLE = ("draft",)
RECEIVABLE = ("ordered", "partially_received")
CANCELLABLE = ("draft", "ordered")
_CENT = Decimal("0.01")
_MONEY_LIMIT = Decimal(10) ** 12  # numeric(14, 2)
# Numbers are handed out one at a time per tenant (max + 1 under this lock).
_NUMBER_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def over_receipt_allowed(tenant_id: uuid.UUID) -> bool:
    """The tenant's ``allow_over_receipt`` feature (off unless set)."""
    return bool(module_state(tenant_id, MODULE_KEY).features.get("allow_over_receipt", False))


# --------------------------------------------------------------------------- suppliers


SUPPLIERS = ContactBook(Supplier, "supplier")
list_suppliers = SUPPLIERS.search
get_supplier = SUPPLIERS.get
create_supplier = SUPPLIERS.create
update_supplier = SUPPLIERS.update


# --------------------------------------------------------------------------- orders


def list_orders(args: dict[str, Any]) -> Select:
    statement = where_given(select(PurchaseOrder), PurchaseOrder, args, "status", "supplier_id")
    return ordered(statement, PurchaseOrder, args["sort"])


def get_order(order_id: uuid.UUID, lock: bool = False) -> PurchaseOrder:
    """The order; ``lock`` serialises changes to it (receipts, edits, transitions)."""
    return get_or_404(PurchaseOrder, order_id, "purchase order", lock)


def _require_supplier(supplier_id: uuid.UUID) -> None:
    SUPPLIERS.require_active(supplier_id)


def _build_lines(tenant_id: uuid.UUID, lines: list[dict[str, Any]]) -> list[PurchaseOrderLine]:
    """Order lines from input, priced; 422 for products that are unknown here or inactive."""
    ids = {line["product_id"] for line in lines}
    active = dict(db.session.execute(
        select(Product.id, Product.active).where(Product.id.in_(ids))).all()) if ids else {}
    errors = {}
    for index, line in enumerate(lines):
        if line["product_id"] not in active:
            errors[str(index)] = {"product_id": ["unknown product"]}
        elif not active[line["product_id"]]:
            errors[str(index)] = {"product_id": ["product is inactive"]}
    if errors:
        raise Unprocessable("invalid order lines", {"lines": errors})
    built = []
    for number, line in enumerate(lines, start=1):
        row = PurchaseOrderLine(tenant_id=tenant_id, id=uuid.uuid4(), line_no=number,
                                received_quantity=Decimal("0"), **line)
        row.line_total = (row.quantity * row.unit_cost).quantize(_CENT, ROUND_HALF_UP)
        row.tax_amount = (row.line_total * row.tax_rate / 100).quantize(_CENT, ROUND_HALF_UP)
        built.append(row)
    return built


def _set_lines(order: PurchaseOrder, lines: list[PurchaseOrderLine]) -> None:
    order.lines = lines
    order.subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    order.tax_total = sum((line.tax_amount for line in lines), Decimal("0.00"))
    order.total = order.subtotal + order.tax_total
    if order.total >= _MONEY_LIMIT:
        raise Unprocessable("the order total is too large", {"lines": ["total must be less "
                                                                      f"than {_MONEY_LIMIT}"]})


def create_order(tenant_id: uuid.UUID, data: dict[str, Any], actor: str) -> PurchaseOrder:
    _require_supplier(data["supplier_id"])
    lines = _build_lines(tenant_id, data.pop("lines"))
    db.session.execute(_NUMBER_LOCK, {"key": f"purchasing.orders:{tenant_id}"})
    number = db.session.execute(select(func.coalesce(func.max(PurchaseOrder.number), 0))
                                ).scalar_one() + 1
    order = PurchaseOrder(tenant_id=tenant_id, id=uuid.uuid4(), number=number, status="draft",
                          created_by=actor, **data)
    _set_lines(order, lines)
    db.session.add(order)
    db.session.flush()
    return order


def update_order(tenant_id: uuid.UUID, order: PurchaseOrder,
                 changes: dict[str, Any]) -> PurchaseOrder:
    if order.status not in EDITABLE:
        raise Conflict(f"a {order.status} order cannot be edited; only drafts can")
    if "supplier_id" in changes and changes["supplier_id"] != order.supplier_id:
        _require_supplier(changes["supplier_id"])
    if "lines" in changes:
        lines = _build_lines(tenant_id, changes.pop("lines"))
        # Old lines go first: the new ones reuse their line numbers.
        order.lines = []
        db.session.flush()
        _set_lines(order, lines)
    for field, value in changes.items():
        setattr(order, field, value)
    order.updated_at = datetime.now(UTC)
    db.session.flush()
    return order


def place_order(order: PurchaseOrder) -> PurchaseOrder:
    """draft -> ordered."""
    if order.status != "draft":
        raise Conflict(f"only a draft can be ordered; this order is {order.status}")
    if not order.lines:
        raise Unprocessable("an order needs at least one line", {"lines": ["empty"]})
    _require_supplier(order.supplier_id)
    order.status, order.ordered_at = "ordered", datetime.now(UTC)
    db.session.flush()
    return order


def cancel_order(order: PurchaseOrder) -> PurchaseOrder:
    if order.status not in CANCELLABLE:
        raise Conflict(f"a {order.status} order cannot be cancelled")
    order.status, order.cancelled_at = "cancelled", datetime.now(UTC)
    db.session.flush()
    return order


# --------------------------------------------------------------------------- receiving


def _receipt_quantities(order: PurchaseOrder, requested: list[dict[str, Any]],
                        allow_over: bool) -> list[tuple[PurchaseOrderLine, Decimal]]:
    """(line, quantity) pairs to receive; everything outstanding when nothing is requested."""
    if not requested:
        pairs = [(line, line.outstanding_quantity) for line in order.lines
                 if line.outstanding_quantity > 0]
        if not pairs:
            raise Conflict("nothing is left to receive on this order")
        return pairs
    by_id = {line.id: line for line in order.lines}
    errors, seen, pairs = {}, set(), []
    for index, item in enumerate(requested):
        line = by_id.get(item["line_id"])
        if line is None:
            errors[str(index)] = {"line_id": ["not a line of this order"]}
        elif line.id in seen:
            errors[str(index)] = {"line_id": ["appears twice"]}
        else:
            seen.add(line.id)
            pairs.append((line, item["quantity"]))
    if errors:
        raise Unprocessable("invalid receipt lines", {"lines": errors})
    over = [{"line_id": str(line.id), "ordered": str(line.quantity),
             "received": str(line.received_quantity), "receiving": str(quantity)}
            for line, quantity in pairs if line.received_quantity + quantity > line.quantity]
    if over and not allow_over:
        raise Conflict("receiving more than was ordered; send allow_over_receipt: true or "
                       "enable the purchasing feature allow_over_receipt", {"over": over})
    return pairs


def _post_stock(tenant_id: uuid.UUID, moves: list[dict[str, Any]], actor: str) -> list[dict]:
    try:
        posted = call_if_enabled("stock", tenant_id, "tenantry_stock_post_moves",
                                 moves=moves, actor=actor)
    except Unprocessable as exc:
        # The lines' products were checked; what stock can still refuse is the location.
        problems = [messages.get("location_id") for messages in
                    (exc.errors or {}).get("moves", {}).values() if isinstance(messages, dict)]
        problems = [p[0] for p in problems if p]
        if problems:
            raise Unprocessable("invalid location", {"location_id": problems[:1]}) from exc
        raise
    if not posted.called:
        raise Conflict("the stock module is not enabled for this tenant; enable it to "
                       "receive goods")
    return posted.result


def receive(tenant_id: uuid.UUID, order_id: uuid.UUID, data: dict[str, Any], actor: str, *,
            allow_over: bool) -> tuple[PurchaseReceipt, PurchaseOrder]:
    """Receive goods (all outstanding, or the given quantities per line) into stock."""
    order = get_order(order_id, lock=True)  # one receipt of an order at a time
    if order.status not in RECEIVABLE:
        raise Conflict(f"a {order.status} order cannot be received; "
                       + ("order it first" if order.status == "draft" else "it is closed"))
    pairs = _receipt_quantities(order, data.get("lines") or [],
                                allow_over or data.get("allow_over_receipt", False))
    receipt_id = uuid.uuid4()
    posted = _post_stock(tenant_id, [
        {"product_id": line.product_id, "quantity": quantity, "unit_cost": line.unit_cost,
         "location_id": data.get("location_id"), "reason": "receipt",
         "reference_type": RECEIPT_REFERENCE, "reference_id": receipt_id,
         "note": f"PO {order.number} line {line.line_no}"}
        for line, quantity in pairs], actor)
    receipt = PurchaseReceipt(tenant_id=tenant_id, id=receipt_id, order_id=order.id,
                              location_id=posted[0]["location_id"], note=data.get("note", ""),
                              received_by=actor)
    receipt.lines = [
        PurchaseReceiptLine(tenant_id=tenant_id, id=uuid.uuid4(), receipt_id=receipt_id,
                            line_id=line.id, product_id=line.product_id, quantity=quantity,
                            unit_cost=line.unit_cost, stock_move_id=move["id"])
        for (line, quantity), move in zip(pairs, posted, strict=True)]
    db.session.add(receipt)
    for line, quantity in pairs:
        line.received_quantity += quantity
    if all(line.received_quantity >= line.quantity for line in order.lines):
        order.status, order.received_at = "received", datetime.now(UTC)
    else:
        order.status = "partially_received"
    db.session.flush()
    return receipt, order


def list_receipts(order_id: uuid.UUID) -> Select:
    get_order(order_id)
    return (select(PurchaseReceipt).where(PurchaseReceipt.order_id == order_id)
            .order_by(PurchaseReceipt.created_at, PurchaseReceipt.id))
