"""Numbers and JSON limits (issue 11): decimal fields take ASCII decimal strings or JSON
numbers within bounds, nothing else; JSON bodies nested too deep or carrying an overlong number
literal get a 422 naming the limit, before the view runs, on every route (login included).

Each reproduction of the issue runs against a real endpoint: a product's price (catalog), a
POS receipt's quantity, and the login body. Before the fix the exponent, the deep nesting and
the 5,000-digit number answered 500 (raised out of the test client), and the Unicode digits
and the underscore were stored as 1, 1 and 10.
"""

from __future__ import annotations

import logging
import uuid

import pytest

from core import json_limits
from core.testing.tenants import PASSWORD
from tests.fixtures.commerce import sell
from tests.fixtures.products import on_hand

LOGIN = "/api/v1/auth/login"
PRODUCTS = "/api/v1/catalog/products"
FIVE_THOUSAND_DIGITS = "9" * 5000


def _deep(levels: int) -> str:
    return "[" * levels + '"x"' + "]" * levels


def _assert_limit_refusal(response, words: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body = response.json
    assert body["code"] == 422 and words in body["message"]
    assert body["errors"] == {"json": [body["message"]]}


def _product_body(price) -> dict:
    return {"sku": f"NUM-{uuid.uuid4().hex[:8]}", "name": "Numbers", "sale_price": price,
            "tax_rate": "0"}


# --------------------------------------------------------------------------- decimal fields

NOT_DECIMALS = [
    "1E+999999999999",  # was a 500 (decimal.Overflow)
    "1E-999999999999",
    "\u0661",  # ARABIC-INDIC DIGIT ONE: was stored as 1
    "\U0001d7d9",  # MATHEMATICAL DOUBLE-STRUCK DIGIT ONE: was stored as 1
    "1_0",  # was stored as 10
    "1e2", "+1", ".5", "5.", " 1", "1 ", "0x10", "NaN", "Infinity", "", "1,5", "--1",
]


@pytest.mark.parametrize("price", NOT_DECIMALS)
def test_a_product_price_must_be_an_ascii_decimal(shop, price):
    body = _product_body(price)
    response = shop.admin.post(PRODUCTS, json=body)
    assert response.status_code == 422, response.json
    assert "Not a valid decimal" in response.json["errors"]["json"]["sale_price"][0]
    skus = [row["sku"] for row in shop.admin.get(PRODUCTS, query_string={
        "page_size": 100}).json]
    assert body["sku"] not in skus  # nothing was created


@pytest.mark.parametrize("price, stored", [
    ("12.50", "12.50"), ("12.5", "12.50"), ("12", "12.00"), ("0", "0.00"),
    (12.5, "12.50"), (12, "12.00"), ("999999999999.99", "999999999999.99")])
def test_decimal_strings_and_json_numbers_within_bounds_are_accepted(shop, price, stored):
    response = shop.admin.post(PRODUCTS, json=_product_body(price))
    assert response.status_code == 201, response.json
    assert response.json["sale_price"] == stored


@pytest.mark.parametrize("price, message", [
    ("1000000000000", "less than 1000000000000"), (1e300, "less than 1000000000000"),
    ("0.001", "At most 2 decimal places"), (1e-300, "At most 2 decimal places"),
    ("-1", "greater than or equal to 0")])
def test_out_of_range_numbers_get_a_field_error(shop, price, message):
    response = shop.admin.post(PRODUCTS, json=_product_body(price))
    assert response.status_code == 422, response.json
    assert message in response.json["errors"]["json"]["sale_price"][0]


@pytest.mark.parametrize("quantity", ["1E+999999999999", "\u0661", "\U0001d7d9", "1_0"])
def test_a_pos_quantity_must_be_an_ascii_decimal(pos_cashier, pos_register, pos_shift,
                                                  pos_products, quantity):
    coffee = pos_products[0]
    before = on_hand(pos_cashier, coffee["id"])
    response = pos_cashier.post(
        f"/api/v1/pos/registers/{pos_register['id']}/receipts",
        json={"lines": [{"product_id": coffee["id"], "quantity": quantity}],
              "payments": [{"method": "cash", "amount": "100.00"}]})
    assert response.status_code == 422, response.json
    assert "Not a valid decimal" in str(response.json["errors"])
    assert on_hand(pos_cashier, coffee["id"]) == before  # no sale, no stock move


def test_a_pos_quantity_as_a_json_number_still_sells(pos_cashier, pos_register, pos_shift,
                                                     pos_products):
    coffee = pos_products[0]
    receipt = sell(pos_cashier, pos_register, [{"product_id": coffee["id"], "quantity": 2}],
                   [{"method": "cash", "amount": "10.00"}])
    assert receipt["lines"][0]["quantity"] == "2.000"


# --------------------------------------------------------------------------- JSON limits


def test_deeply_nested_login_body_gets_422_and_is_logged(tenant, caplog):
    caplog.set_level(logging.INFO, logger="tenantry")
    body = '{"email": "a@b.test", "password": "x", "extra": ' + _deep(100_000) + "}"
    response = tenant.anonymous().post(LOGIN, data=body, content_type="application/json")
    _assert_limit_refusal(response, "nested deeper than 32 levels")
    auth_lines = [r.getMessage() for r in caplog.records if r.name == "tenantry.auth"]
    # A body beyond the limits is not read for the log line either.
    assert auth_lines[0].startswith("login start") and auth_lines[0].endswith("email=-")
    assert auth_lines[-1].startswith("login end") and auth_lines[-1].endswith("status=422")


def test_a_5000_digit_number_in_the_login_body_gets_422(tenant):
    body = '{"email": "a@b.test", "password": ' + FIVE_THOUSAND_DIGITS + "}"
    response = tenant.anonymous().post(LOGIN, data=body, content_type="application/json")
    _assert_limit_refusal(response, "longer than 100 characters")


def test_a_valid_login_is_unaffected(tenant):
    response = tenant.anonymous().post(LOGIN, json={"email": tenant.users["owner"],
                                                    "password": PASSWORD})
    assert response.status_code == 200


def test_a_5000_digit_price_gets_422(shop):
    admin = shop.admin
    body = '{"sku": "S", "name": "N", "sale_price": ' + FIVE_THOUSAND_DIGITS + "}"
    response = admin.post(PRODUCTS, data=body, content_type="application/json")
    _assert_limit_refusal(response, "longer than 100 characters")


def test_deep_nesting_in_a_pos_receipt_gets_422(pos_cashier, pos_register, pos_shift):
    body = '{"lines": ' + _deep(5_000) + ', "payments": []}'
    response = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts",
                                data=body, content_type="application/json")
    _assert_limit_refusal(response, "nested deeper than 32 levels")


def test_nan_is_not_json(shop):
    body = '{"sku": "S", "name": "N", "sale_price": NaN}'
    response = shop.admin.post(PRODUCTS, data=body,
                                               content_type="application/json")
    _assert_limit_refusal(response, "NaN is not a JSON value")


def test_credentials_are_checked_before_the_body(shop):
    body = '{"sku": ' + _deep(100_000) + "}"
    response = shop.tenant.anonymous().post(PRODUCTS, data=body, content_type="application/json")
    assert response.status_code == 401


def test_malformed_json_still_gets_400(shop):
    response = shop.admin.post(PRODUCTS, data='{"sku": ',
                                               content_type="application/json")
    assert response.status_code == 400 and response.json["message"]


@pytest.mark.parametrize("levels, refused", [(32, False), (33, True)])
def test_the_depth_limit_is_exact(levels, refused):
    text = _deep(levels)
    if refused:
        with pytest.raises(json_limits.JSONLimitError, match="deeper than 32"):
            json_limits.loads_limited(text)
    else:
        assert json_limits.loads_limited(text) is not None


@pytest.mark.parametrize("literal, refused", [
    ("1" * 100, False), ("1" * 101, True), ("-" + "1" * 99, False), ("1." + "1" * 98, False),
    ("1." + "1" * 99, True), ("1e" + "9" * 98, False), ("1e" + "9" * 99, True)])
def test_the_number_length_limit_counts_every_character(literal, refused):
    text = f'{{"n": {literal}}}'
    if refused:
        with pytest.raises(json_limits.JSONLimitError, match="longer than 100"):
            json_limits.loads_limited(text)
    else:
        json_limits.loads_limited(text)


def test_the_limit_error_is_a_value_error_so_silent_get_json_sees_no_body(app):
    with app.test_request_context(LOGIN, method="POST", data=_deep(40),
                                  content_type="application/json"):
        from flask import request

        assert request.get_json(silent=True) is None
