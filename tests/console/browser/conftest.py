"""What the till's browser tests share: a shop selling coffee and mugs by barcode, with a
cashier who signs in as cashier@till.test."""

from __future__ import annotations

import pytest

from tests.fixtures.products import make_product, receive_stock


@pytest.fixture
def shop(pos_store, pos_register):
    admin = pos_store.as_role("admin")
    for name, price, tax, barcode in (("Coffee", "2.50", "10", "4006381333931"),
                                      ("Mug", "8.00", "21", "5000112546415")):
        product = make_product(admin, sale_price=price, tax_rate=tax, name=name, barcode=barcode)
        receive_stock(admin, product["id"], "20")
    pos_store.add_user("cashier", "cashier@till.test")
    return pos_store
