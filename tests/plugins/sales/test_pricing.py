"""The pricing rules of plugins.sales.pricing, checked against amounts computed by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from core.errors import Unprocessable
from plugins.sales.pricing import Discount, LineInput, price, refund_share


def test_plain_lines_round_half_up_per_line():
    # 3 x 0.335 = 1.005 -> 1.01 (half up, not banker's 1.00); tax 10 % of 1.01 = 0.101 -> 0.10
    document = price([LineInput(D("3"), D("0.335"), D("10"))])
    line = document.lines[0]
    assert (line.gross, line.tax, line.total) == (D("1.01"), D("0.10"), D("1.11"))
    # tax 21 % of 2.50 = 0.525 -> 0.53
    document = price([LineInput(D("1"), D("2.50"), D("21"))])
    assert document.lines[0].tax == D("0.53")
    assert document.total == D("3.03")


def test_line_discounts_percent_and_amount():
    document = price([
        LineInput(D("2"), D("10.00"), D("20"), Discount("percent", D("15"))),
        LineInput(D("1"), D("5.00"), D("0"), Discount("amount", D("1.25"))),
    ])
    first, second = document.lines
    # 20.00 - 15 % (3.00) = 17.00; tax 3.40; total 20.40
    assert (first.line_discount, first.tax, first.total) == (D("3.00"), D("3.40"), D("20.40"))
    assert (second.line_discount, second.total) == (D("1.25"), D("3.75"))
    assert (document.subtotal, document.discount_total, document.tax_total, document.total) == (
        D("25.00"), D("4.25"), D("3.40"), D("24.15"))


def test_order_amount_discount_is_spread_and_adds_up_exactly():
    # Three equal lines of 1.00 and a 1.00 discount: 0.33 each, the remainder 0.01 goes to
    # the first of the largest lines.
    document = price([LineInput(D("1"), D("1.00"), D("0"))] * 3, Discount("amount", D("1.00")))
    assert [line.order_discount for line in document.lines] == [D("0.34"), D("0.33"), D("0.33")]
    assert document.discount_total == D("1.00")
    assert document.total == D("2.00")


def test_order_percent_discount_applies_to_each_line_then_tax():
    document = price([LineInput(D("1"), D("9.99"), D("10")), LineInput(D("1"), D("0.05"), D("0"))],
                     Discount("percent", D("10")))
    # 9.99 -> share 0.999 -> 1.00, taxable 8.99, tax 0.899 -> 0.90; 0.05 -> share 0.005 -> 0.01
    assert [line.order_discount for line in document.lines] == [D("1.00"), D("0.01")]
    assert document.lines[0].tax == D("0.90")
    assert document.total == D("8.99") + D("0.90") + D("0.04")


def test_discounts_larger_than_the_amount_are_refused():
    with pytest.raises(Unprocessable) as line_error:
        price([LineInput(D("1"), D("1.00"), D("0"), Discount("amount", D("1.01")))])
    assert line_error.value.errors == {"lines": {"0": {"discount": [
        "larger than the line amount"]}}}
    with pytest.raises(Unprocessable):
        price([LineInput(D("1"), D("1.00"), D("0"))], Discount("amount", D("2.00")))


def test_refund_share_gives_back_the_line_total_exactly_in_the_end():
    total, quantity = D("10.00"), D("3")
    first = refund_share(total, quantity, D("1"), D("0"), D("0"))
    second = refund_share(total, quantity, D("1"), D("1"), first)
    last = refund_share(total, quantity, D("1"), D("2"), first + second)
    assert (first, second, last) == (D("3.33"), D("3.33"), D("3.34"))
    assert first + second + last == total
