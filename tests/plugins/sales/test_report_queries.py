"""The shared net-of-give-backs report SQL: names pasted into it must be plain identifiers."""

from __future__ import annotations

import pytest

from plugins.pos.reports import RECEIPTS
from plugins.sales.api import NetSalesTables
from plugins.sales.reports import ORDERS


def _tables(**changes):
    names = {field: getattr(ORDERS, field) for field in vars(ORDERS)}
    return NetSalesTables(**{**names, **changes})


@pytest.mark.parametrize("bad", ["sales_orders; DROP TABLE products", "Orders", "a b", ""])
def test_a_name_that_is_not_a_plain_identifier_is_refused(bad):
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        _tables(documents=bad)


def test_the_status_filter_is_bound_only_where_a_status_is_named():
    orders_sql, receipts_sql = str(ORDERS.by_day()), str(RECEIPTS.by_day())
    assert ":sold_status" in orders_sql and "'fulfilled'" not in orders_sql
    assert ":sold_status" not in receipts_sql
    assert "AS refunded_amount" in str(RECEIPTS.top_products())
    assert "AS returned_quantity" in str(ORDERS.top_products())
