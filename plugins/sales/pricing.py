"""Money arithmetic of sales documents: sales orders and POS receipts price lines the same way.

This module is part of the sales module's public surface (like ``plugins.catalog.models``):
POS, which requires sales, prices its receipts with it, so a receipt and an order with the
same lines always cost the same. It is pure arithmetic: no database, no Flask.

Rules (also in docs/sales-and-pos.md). Prices are net of tax. Every stored amount is rounded
once, to cents, with ``ROUND_HALF_UP``, per line; document totals are sums of rounded line
amounts and are never rounded again:

1. ``gross = round(quantity * unit_price)``
2. line discount: percent -> ``round(gross * percent / 100)``; amount -> the amount
   (at most ``gross``)
3. ``net = gross - line discount``
4. order discount, spread over the lines: percent -> ``round(net * percent / 100)`` per line;
   amount -> each line's share ``round(amount * net / sum of nets)``, and the rounding remainder
   goes to the line with the largest net (the first one on a tie), so the shares add up to
   exactly the amount
5. ``taxable = net - order discount share``; ``tax = round(taxable * tax_rate / 100)``;
   ``total = taxable + tax``
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.sdk import Unprocessable

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
PERCENT = "percent"
AMOUNT = "amount"
DISCOUNT_KINDS = (PERCENT, AMOUNT)
# numeric(14, 2): amounts must stay below this.
MONEY_LIMIT = Decimal(10) ** 12


def cents(value: Decimal) -> Decimal:
    """Round to cents, half away from zero (0.005 -> 0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Discount:
    kind: str  # "percent" or "amount"
    value: Decimal


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal  # percent
    discount: Discount | None = None


@dataclass(frozen=True)
class PricedLine:
    gross: Decimal
    line_discount: Decimal
    order_discount: Decimal
    tax: Decimal
    total: Decimal

    @property
    def taxable(self) -> Decimal:
        return self.gross - self.line_discount - self.order_discount


@dataclass(frozen=True)
class PricedDocument:
    lines: list[PricedLine]
    subtotal: Decimal  # sum of gross
    discount_total: Decimal  # line discounts + order discount
    tax_total: Decimal
    total: Decimal


def discount_from(data: dict | None) -> Discount | None:
    """A ``Discount`` from a parsed ``{"kind", "value"}`` dict (None stays None)."""
    return Discount(data["kind"], Decimal(data["value"])) if data else None


def _line_discount(gross: Decimal, discount: Discount | None) -> Decimal:
    if discount is None:
        return ZERO
    if discount.kind == PERCENT:
        return cents(gross * discount.value / HUNDRED)
    return discount.value


def _spread(amount: Decimal, nets: list[Decimal]) -> list[Decimal]:
    """Shares of ``amount`` in proportion to ``nets``, rounded, adding up to ``amount``."""
    base = sum(nets, ZERO)
    if base == 0:
        return [ZERO for _ in nets]
    shares = [cents(amount * net / base) for net in nets]
    largest = max(range(len(nets)), key=lambda i: (nets[i], -i))
    shares[largest] += amount - sum(shares, ZERO)
    return shares


def price(lines: list[LineInput], order_discount: Discount | None = None) -> PricedDocument:
    """Price a document; 422 (errors keyed like the request body) for impossible discounts."""
    errors: dict = {}
    grosses, line_discounts = [], []
    for index, line in enumerate(lines):
        gross = cents(line.quantity * line.unit_price)
        discount = _line_discount(gross, line.discount)
        if discount > gross:
            errors[str(index)] = {"discount": ["larger than the line amount"]}
        grosses.append(gross)
        line_discounts.append(discount)
    if errors:
        raise Unprocessable("invalid discount", {"lines": errors})
    nets = [g - d for g, d in zip(grosses, line_discounts, strict=True)]
    if order_discount is None:
        shares = [ZERO for _ in nets]
    elif order_discount.kind == PERCENT:
        shares = [cents(net * order_discount.value / HUNDRED) for net in nets]
    else:
        if order_discount.value > sum(nets, ZERO):
            raise Unprocessable("invalid discount", {"discount": [
                "larger than the amount of the lines"]})
        shares = _spread(order_discount.value, nets)
    priced = []
    for line, gross, discount, net, share in zip(lines, grosses, line_discounts, nets, shares,
                                                 strict=True):
        taxable = net - share
        tax = cents(taxable * line.tax_rate / HUNDRED)
        priced.append(PricedLine(gross, discount, share, tax, taxable + tax))
    document = PricedDocument(
        lines=priced,
        subtotal=sum((p.gross for p in priced), ZERO),
        discount_total=sum((p.line_discount + p.order_discount for p in priced), ZERO),
        tax_total=sum((p.tax for p in priced), ZERO),
        total=sum((p.total for p in priced), ZERO))
    if document.subtotal >= MONEY_LIMIT or document.total >= MONEY_LIMIT:
        raise Unprocessable("the document total is too large",
                            {"lines": [f"total must be less than {MONEY_LIMIT}"]})
    return document


def refund_share(line_total: Decimal, line_quantity: Decimal, quantity: Decimal,
                 already_quantity: Decimal, already_amount: Decimal) -> Decimal:
    """What returning ``quantity`` of a line gives back: its pro-rata share of the line total,
    rounded; the last units returned give back exactly what is left, so a full return always
    refunds the line total to the cent."""
    if already_quantity + quantity >= line_quantity:
        return line_total - already_amount
    return cents(line_total * quantity / line_quantity)
