"""Sales operations. Explicit arguments, flush never commit, ``core.errors`` for refusals.

Stock changes only through the stock module's hook (``tenantry_stock_post_moves``), and only
when stock is enabled for the tenant: without it, orders are fulfilled and returned all the
same, with no stock moves. Another tenant's ids are invisible under RLS: "not found" (404) for
the document in the URL, 422 for an id inside a body.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, text

from core.sdk import (
    Conflict,
    ContactBook,
    Unprocessable,
    app_state,
    call_if_enabled,
    db,
    get_or_404,
    ordered,
    where_given,
)
from plugins.sales import pricing
from plugins.sales.api import lines_to_give_back, lines_to_sell
from plugins.sales.models import (
    Customer,
    SalesOrder,
    SalesOrderLine,
    SalesReturn,
    SalesReturnLine,
)

ORDER_REFERENCE = "sales_order"
RETURN_REFERENCE = "sales_return"
_NUMBER_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


# --------------------------------------------------------------------------- stock and hooks


def post_stock(tenant_id: uuid.UUID, moves: list[dict[str, Any]], actor: str) -> list[dict]:
    """Post moves through the stock hook when stock is enabled (else nothing, []).

    Stock's 422 for a move's location becomes a 422 on ``location_id``; its 409 (not enough
    stock) passes through.
    """
    if not moves:
        return []
    try:
        posted = call_if_enabled("stock", tenant_id, "tenantry_stock_post_moves",
                                 moves=moves, actor=actor)
    except Unprocessable as exc:
        problems = [messages.get("location_id") for messages in
                    (exc.errors or {}).get("moves", {}).values() if isinstance(messages, dict)]
        problems = [p[0] for p in problems if p]
        if problems:
            raise Unprocessable("invalid stock location", {"location_id": problems[:1]}) from exc
        raise
    return posted.result if posted.called else []


def sale_completed(tenant_id: uuid.UUID, sale: dict[str, Any], actor: str) -> None:
    app_state().registry.hook.tenantry_sales_sale_completed(
        tenant_id=tenant_id, sale=sale, actor=actor)


# --------------------------------------------------------------------------- customers


CUSTOMERS = ContactBook(Customer, "customer")
list_customers = CUSTOMERS.search
get_customer = CUSTOMERS.get
create_customer = CUSTOMERS.create
update_customer = CUSTOMERS.update


# --------------------------------------------------------------------------- orders


def list_orders(args: dict[str, Any]) -> Select:
    statement = where_given(select(SalesOrder), SalesOrder, args, "status", "customer_id")
    return ordered(statement, SalesOrder, args["sort"])


def get_order(order_id: uuid.UUID, lock: bool = False) -> SalesOrder:
    return get_or_404(SalesOrder, order_id, "sales order", lock)


def _require_customer(customer_id: uuid.UUID | None) -> None:
    if customer_id is not None:
        CUSTOMERS.require_active(customer_id)


def _build_lines(tenant_id: uuid.UUID, lines: list[dict[str, Any]]) -> list[SalesOrderLine]:
    return [SalesOrderLine(tenant_id=tenant_id, id=uuid.uuid4(), **values)
            for values in lines_to_sell(lines, document="order")]


def _price(order: SalesOrder, lines: list[SalesOrderLine]) -> None:
    """Price ``lines`` with the order's discount and set every amount (pricing rules)."""
    document = pricing.price(
        [pricing.LineInput(line.quantity, line.unit_price, line.tax_rate,
                           pricing.discount_from(line.discount)) for line in lines],
        pricing.discount_from(order.discount))
    for line, priced in zip(lines, document.lines, strict=True):
        line.gross, line.line_discount = priced.gross, priced.line_discount
        line.order_discount, line.tax, line.total = priced.order_discount, priced.tax, priced.total
    order.subtotal, order.discount_total = document.subtotal, document.discount_total
    order.tax_total, order.total = document.tax_total, document.total


def _set_discount(order: SalesOrder, discount: dict[str, Any] | None) -> None:
    order.discount_kind = discount["kind"] if discount else None
    order.discount_value = discount["value"] if discount else None


def create_order(tenant_id: uuid.UUID, data: dict[str, Any], actor: str) -> SalesOrder:
    """A draft order with its lines, priced."""
    _require_customer(data.get("customer_id"))
    lines = _build_lines(tenant_id, data["lines"])
    db.session.execute(_NUMBER_LOCK, {"key": f"sales.orders:{tenant_id}"})
    number = db.session.execute(
        select(func.coalesce(func.max(SalesOrder.number), 0))).scalar_one() + 1
    order = SalesOrder(tenant_id=tenant_id, id=uuid.uuid4(), number=number, status="draft",
                       customer_id=data.get("customer_id"), notes=data.get("notes", ""),
                       created_by=actor)
    _set_discount(order, data.get("discount"))
    _price(order, lines)
    order.lines = lines
    db.session.add(order)
    db.session.flush()
    return order


def update_order(tenant_id: uuid.UUID, order: SalesOrder, changes: dict[str, Any]) -> SalesOrder:
    """Edit a draft: customer, notes, discount, or every line at once (re-priced)."""
    if order.status != "draft":
        raise Conflict(f"a {order.status} order cannot be edited; only drafts can")
    if "customer_id" in changes and changes["customer_id"] != order.customer_id:
        _require_customer(changes["customer_id"])
        order.customer_id = changes["customer_id"]
    if "notes" in changes:
        order.notes = changes["notes"]
    if "discount" in changes:
        _set_discount(order, changes["discount"])
    if "lines" in changes:
        lines = _build_lines(tenant_id, changes["lines"])
        _price(order, lines)
        order.lines = []
        db.session.flush()  # old lines go first: the new ones reuse their numbers
        order.lines = lines
    else:
        _price(order, list(order.lines))
    order.updated_at = datetime.now(UTC)
    db.session.flush()
    return order


def confirm_order(order: SalesOrder) -> SalesOrder:
    """draft -> confirmed: the lines are frozen from now on."""
    if order.status != "draft":
        raise Conflict(f"only a draft can be confirmed; this order is {order.status}")
    order.status, order.confirmed_at = "confirmed", datetime.now(UTC)
    db.session.flush()
    return order


def cancel_order(order: SalesOrder) -> SalesOrder:
    if order.status not in ("draft", "confirmed"):
        raise Conflict(f"a {order.status} order cannot be cancelled")
    order.status, order.cancelled_at = "cancelled", datetime.now(UTC)
    db.session.flush()
    return order


def sale_payload(order: SalesOrder) -> dict[str, Any]:
    """The order as the ``tenantry_sales_sale_completed`` hook describes a sale."""
    return {
        "source": ORDER_REFERENCE, "id": order.id, "number": order.number,
        "customer_id": order.customer_id, "register_id": None, "shift_id": None,
        "subtotal": order.subtotal, "discount_total": order.discount_total,
        "tax_total": order.tax_total, "total": order.total, "completed_at": order.fulfilled_at,
        "lines": [{"product_id": line.product_id, "quantity": line.quantity,
                   "unit_price": line.unit_price, "tax": line.tax, "total": line.total}
                  for line in order.lines]}


def fulfil_order(tenant_id: uuid.UUID, order_id: uuid.UUID, data: dict[str, Any],
                 actor: str) -> SalesOrder:
    """confirmed -> fulfilled: goods leave stock (``sale`` moves), the sale is complete."""
    order = get_order(order_id, lock=True)  # two fulfilments of one order queue here
    if order.status != "confirmed":
        hint = "confirm it first" if order.status == "draft" else "it is closed"
        raise Conflict(f"a {order.status} order cannot be fulfilled; {hint}")
    post_stock(tenant_id, [
        {"product_id": line.product_id, "quantity": -line.quantity, "reason": "sale",
         "location_id": data.get("location_id"), "reference_type": ORDER_REFERENCE,
         "reference_id": order.id, "note": f"SO {order.number} line {line.line_no}"}
        for line in order.lines], actor)
    order.status, order.fulfilled_at = "fulfilled", datetime.now(UTC)
    db.session.flush()
    sale_completed(tenant_id, sale_payload(order), actor)
    return order


# --------------------------------------------------------------------------- returns


def returned_so_far(order_id: uuid.UUID) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
    """Order line id -> (quantity, amount) already returned."""
    rows = db.session.execute(
        select(SalesReturnLine.order_line_id, func.sum(SalesReturnLine.quantity),
               func.sum(SalesReturnLine.amount))
        .join(SalesReturn, (SalesReturn.tenant_id == SalesReturnLine.tenant_id)
              & (SalesReturn.id == SalesReturnLine.return_id))
        .where(SalesReturn.order_id == order_id)
        .group_by(SalesReturnLine.order_line_id)).all()
    return {line_id: (quantity, amount) for line_id, quantity, amount in rows}


def create_return(tenant_id: uuid.UUID, order_id: uuid.UUID, data: dict[str, Any],
                  actor: str) -> SalesReturn:
    """Take goods back against a fulfilled order: ``return`` moves and the money to refund."""
    order = get_order(order_id, lock=True)  # returns of one order are counted one at a time
    if order.status != "fulfilled":
        raise Conflict(f"only fulfilled orders take returns; this order is {order.status}")
    given = lines_to_give_back(order.lines, data["lines"], returned_so_far(order.id),
                               line_field="order_line_id", document="order", verb="return")
    document = SalesReturn(tenant_id=tenant_id, id=uuid.uuid4(), order_id=order.id,
                           reason=data.get("reason", ""), created_by=actor)
    document.lines = [
        SalesReturnLine(tenant_id=tenant_id, id=uuid.uuid4(), return_id=document.id,
                        line_no=number, order_line_id=line.id, product_id=line.product_id,
                        quantity=quantity, amount=amount)
        for number, (line, quantity, amount) in enumerate(given, start=1)]
    document.total = sum((line.amount for line in document.lines), pricing.ZERO)
    post_stock(tenant_id, [
        {"product_id": line.product_id, "quantity": line.quantity, "reason": "return",
         "location_id": data.get("location_id"), "reference_type": RETURN_REFERENCE,
         "reference_id": document.id, "note": f"SO {order.number} return"}
        for line in document.lines], actor)
    db.session.add(document)
    db.session.flush()
    return document


def list_returns(order_id: uuid.UUID) -> Select:
    get_order(order_id)
    return select(SalesReturn).where(SalesReturn.order_id == order_id).order_by(
        SalesReturn.created_at, SalesReturn.id)


def get_return(return_id: uuid.UUID) -> SalesReturn:
    return get_or_404(SalesReturn, return_id, "return")
