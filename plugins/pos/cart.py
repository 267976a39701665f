"""The till's cart: what the cashier has scanned, carried in the till page's URL until Pay.

A cart is a short text, ``<product id>*<quantity>[*<line discount %>]`` per line, lines joined
by ``,``; the order discount (a percentage) travels beside it. Keeping the cart in the page
(not in the database) means scanning changes nothing on the server, a reload or the back
button shows the same cart, and two tills never share one. Only Pay writes: the receipt, with
the page's Idempotency-Key.

``parse`` refuses anything malformed with one ``CartError`` (the till answers 422 and shows
an empty cart), so a hand-edited URL never reaches the services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

MAX_LINES = 100
MAX_QUANTITY = Decimal("10000")
_QUANTITY_PLACES = Decimal("0.001")


class CartError(ValueError):
    """The cart text is not a cart."""


@dataclass(frozen=True)
class CartLine:
    product_id: uuid.UUID
    quantity: Decimal
    discount_percent: Decimal | None = None


def _decimal(text: str, what: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise CartError(f"{what} is not a number") from exc
    if not value.is_finite() or not low <= value <= high or value != value.quantize(
            _QUANTITY_PLACES):
        raise CartError(f"{what} must be between {low} and {high} with at most 3 decimals")
    return value


def parse(text: str | None) -> list[CartLine]:
    if not text:
        return []
    items = text.split(",")
    if len(text) > 10000 or len(items) > MAX_LINES:
        raise CartError(f"a cart holds at most {MAX_LINES} lines")
    lines: list[CartLine] = []
    for item in items:
        parts = item.split("*")
        if len(parts) not in (2, 3):
            raise CartError("a cart line is <product>*<quantity>[*<discount %>]")
        try:
            product_id = uuid.UUID(parts[0])
        except ValueError as exc:
            raise CartError("a cart line names an invalid product") from exc
        quantity = _decimal(parts[1], "a quantity", _QUANTITY_PLACES, MAX_QUANTITY)
        discount = _decimal(parts[2], "a discount", Decimal("0"), Decimal("100")) \
            if len(parts) == 3 else None
        if any(line.product_id == product_id for line in lines):
            raise CartError("a product is on two lines")
        lines.append(CartLine(product_id, quantity, discount))
    return lines


def dump(lines: list[CartLine]) -> str:
    def text(line: CartLine) -> str:
        base = f"{line.product_id}*{line.quantity.normalize():f}"
        return base if line.discount_percent is None else \
            f"{base}*{line.discount_percent.normalize():f}"

    return ",".join(text(line) for line in lines)


def add(lines: list[CartLine], product_id: uuid.UUID, quantity: Decimal = Decimal("1"),
        ) -> list[CartLine]:
    """One more of a product (a new line at the end, or its line grows)."""
    for index, line in enumerate(lines):
        if line.product_id == product_id:
            grown = min(line.quantity + quantity, MAX_QUANTITY)
            return [*lines[:index], replace(line, quantity=grown), *lines[index + 1:]]
    if len(lines) >= MAX_LINES:
        raise CartError(f"a cart holds at most {MAX_LINES} lines")
    return [*lines, CartLine(product_id, quantity)]


def set_quantity(lines: list[CartLine], product_id: uuid.UUID, quantity: Decimal,
                 ) -> list[CartLine]:
    """The product's quantity; 0 removes its line."""
    if quantity == 0:
        return [line for line in lines if line.product_id != product_id]
    return [replace(line, quantity=quantity) if line.product_id == product_id else line
            for line in lines]


def set_discount(lines: list[CartLine], product_id: uuid.UUID, percent: Decimal | None,
                 ) -> list[CartLine]:
    return [replace(line, discount_percent=percent or None)
            if line.product_id == product_id else line for line in lines]


def receipt_lines(lines: list[CartLine]) -> list[dict]:
    """The lines as the receipt API takes them (strings for numbers, as JSON would)."""
    return [{"product_id": str(line.product_id), "quantity": f"{line.quantity:f}",
             **({"discount": {"kind": "percent", "value": f"{line.discount_percent:.2f}"}}
                if line.discount_percent else {})}
            for line in lines]
