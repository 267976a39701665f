"""The POS console through the Flask test client: the till's cart lives in its URL, Pay sells
once per page (its hidden Idempotency-Key), refunds, shift reports, and the owner's registers;
with the guards every page has (no session, role, another tenant's ids, module disabled,
invalid input, CSRF)."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest

from plugins.pos import cart
from tests.fixtures.products import make_product, receive_stock


@pytest.fixture
def till_products(pos_store):
    admin = pos_store.as_role("admin")
    coffee = make_product(admin, sale_price="2.50", tax_rate="10", name="Coffee",
                          barcode="4006381333931")
    mug = make_product(admin, sale_price="8.00", tax_rate="21", name="Mug", barcode="5000112546415")
    for product in (coffee, mug):
        receive_stock(admin, product["id"], "50")
    return coffee, mug


@pytest.fixture
def cashier_console(pos_store, console_as):
    return console_as(pos_store, "cashier")


def _till(register):
    return f"/pos/registers/{register['id']}/till"


def _key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def _cart_of(location: str) -> str:
    return re.search(r"cart=([^&]+)", location).group(1).replace("%2A", "*").replace(
        "%2C", ",")


def test_cart_text_round_trips_and_refuses_garbage():
    product = uuid.uuid4()
    lines = cart.add(cart.add([], product), product)
    assert cart.parse(cart.dump(lines)) == lines and lines[0].quantity == Decimal("2")
    too_long = ",".join([f"{uuid.uuid4()}*1"] * 101)
    for bad in ("x*1", f"{product}*0", f"{product}*1.0001", f"{product}*1*101",
                f"{product}*1,{product}*2", f"{product}*NaN", too_long):
        with pytest.raises(cart.CartError):
            cart.parse(bad)


def test_scanning_a_barcode_adds_to_the_cart_in_the_url(cashier_console, pos_register, pos_shift,
                                                         till_products):
    coffee, _ = till_products
    first = cashier_console.get(_till(pos_register) + "?q=4006381333931")
    assert first.status_code == 303
    again = cashier_console.get(first.headers["Location"] + "&q=4006381333931")
    assert _cart_of(again.headers["Location"]) == f"{coffee['id']}*2"
    page = cashier_console.get(again.headers["Location"]).get_data(as_text=True)
    assert "Coffee" in page and "5.50" in page  # 2 x 2.50 + 10 % tax


def test_a_name_search_lists_products_and_an_unknown_code_says_so(cashier_console, pos_register,
                                                                  pos_shift, till_products):
    page = cashier_console.get(_till(pos_register) + "?q=mu").get_data(as_text=True)
    assert "Matching products" in page and "Mug" in page
    none = cashier_console.get(_till(pos_register) + "?q=nothing-like-it")
    assert none.status_code == 200 and "No product matches" in none.get_data(as_text=True)


def test_a_hand_edited_cart_is_a_422_not_a_500(cashier_console, pos_register, pos_shift):
    response = cashier_console.get(_till(pos_register) + "?cart=not-a-cart")
    assert response.status_code == 422
    assert "a cart line is" in response.get_data(as_text=True)


def test_pay_sells_once_per_page(cashier_console, pos_cashier, pos_register, pos_shift,
                                 till_products):
    coffee, mug = till_products
    till_page = _till(pos_register) + f"?cart={coffee['id']}*2,{mug['id']}*1"
    html = cashier_console.get(till_page).get_data(as_text=True)
    form = {"cart": f"{coffee['id']}*2,{mug['id']}*1", "method": "cash", "tendered": "20.00",
            "idempotency_key": _key(html)}
    sold = cashier_console.post(f"/pos/registers/{pos_register['id']}/pay", form,
                                csrf_from=till_page)
    body = sold.get_data(as_text=True)
    assert sold.status_code == 200
    assert 'id="change">4.82<' in body  # 15.18 due: 5.50 + 9.68
    again = cashier_console.post(f"/pos/registers/{pos_register['id']}/pay", form,
                                 csrf_from=till_page)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    receipts = pos_cashier.get(f"/api/v1/pos/receipts?shift_id={pos_shift['id']}").json
    assert len(receipts) == 1 and receipts[0]["total"] == "15.18"


def test_paying_short_keeps_the_cart_and_sells_nothing(cashier_console, pos_cashier,
                                                        pos_register, pos_shift, till_products):
    coffee, _ = till_products
    till_page = _till(pos_register) + f"?cart={coffee['id']}*1"
    html = cashier_console.get(till_page).get_data(as_text=True)
    response = cashier_console.post(f"/pos/registers/{pos_register['id']}/pay", {
        "cart": f"{coffee['id']}*1", "method": "cash", "tendered": "1.00",
        "idempotency_key": _key(html)}, csrf_from=till_page)
    assert response.status_code == 422
    assert "the payments do not cover the total" in response.get_data(as_text=True)
    assert pos_cashier.get("/api/v1/pos/receipts").json == []


def test_pay_without_csrf_sells_nothing(cashier_console, pos_cashier, pos_register, pos_shift,
                                        till_products):
    coffee, _ = till_products
    response = cashier_console.post(f"/pos/registers/{pos_register['id']}/pay", {
        "cart": f"{coffee['id']}*1", "method": "card", "idempotency_key": uuid.uuid4().hex},
        token="")
    assert response.status_code == 403
    assert pos_cashier.get("/api/v1/pos/receipts").json == []


def test_refund_one_line_and_the_z_report_matches_the_api(cashier_console, pos_cashier,
                                                          pos_register, pos_shift, till_products):
    coffee, mug = till_products
    till_page = _till(pos_register) + f"?cart={coffee['id']}*2,{mug['id']}*1"
    key = _key(cashier_console.get(till_page).get_data(as_text=True))
    cashier_console.post(f"/pos/registers/{pos_register['id']}/pay", {
        "cart": f"{coffee['id']}*2,{mug['id']}*1", "method": "card", "idempotency_key": key},
        csrf_from=till_page)
    receipt = pos_cashier.get("/api/v1/pos/receipts").json[0]
    mug_line = next(line for line in receipt["lines"] if line["product_id"] == mug["id"])
    form_page = f"/pos/receipts/{receipt['id']}/refund"
    html = cashier_console.get(form_page).get_data(as_text=True)
    refunded = cashier_console.post(form_page, {
        f"qty-{mug_line['id']}": "1", "method": "card", "idempotency_key": _key(html)},
        csrf_from=form_page)
    assert refunded.status_code == 200
    assert 'id="refund-total">9.68<' in refunded.get_data(as_text=True)
    close_page = f"/pos/shifts/{pos_shift['id']}/close"
    closed = cashier_console.post(close_page, {"counted_cash": "100.00"}, csrf_from=close_page)
    assert closed.status_code == 303
    z_page = cashier_console.get(closed.headers["Location"]).get_data(as_text=True)
    z_api = pos_cashier.get(f"/api/v1/pos/shifts/{pos_shift['id']}/z-report").json
    for field in ("sales_total", "refunds_total", "net_total", "expected_cash", "difference"):
        assert f'data-field="{field}">{z_api[field]}<' in z_page


def test_till_pages_need_a_session_and_the_module(app, make_tenant, pos_register, console_as):
    from core.testing.console import ConsoleClient

    anonymous = ConsoleClient(app, make_tenant(modules=["pos"]).host)
    assert anonymous.get("/pos/").status_code == 303
    without_pos = make_tenant(modules=["catalog"])
    assert console_as(without_pos, "owner").get("/pos/").status_code == 403


def test_another_tenants_register_is_a_404(pos_register, make_tenant, console_as):
    other = console_as(make_tenant(modules=["pos"]), "cashier")
    assert other.get(f"/pos/registers/{pos_register['id']}/till").status_code == 404


def test_registers_are_the_owners(pos_store, console_as, cashier_console):
    assert cashier_console.get("/pos/registers").status_code == 403
    owner = console_as(pos_store, "owner")
    created = owner.post("/pos/registers", {"code": "R9", "name": "Back till"})
    assert created.status_code == 303
    duplicate = owner.post("/pos/registers", {"code": "R9", "name": "Again"})
    assert duplicate.status_code == 409 and "already in use" in duplicate.get_data(as_text=True)
    blank = owner.post("/pos/registers", {"code": "", "name": ""})
    assert blank.status_code == 422
    unknown = owner.post("/pos/settings/provider", {"cash_register_provider": "nope"},
                         csrf_from="/pos/registers")
    assert unknown.status_code == 422 and "one of:" in unknown.get_data(as_text=True)


def test_the_dashboard_shows_todays_sales_to_staff(cashier_console, pos_register, pos_shift):
    page = cashier_console.get("/").get_data(as_text=True)
    assert "Today&#39;s sales" in page and "Open shifts" in page


def test_a_line_discount_reprices_the_cart(cashier_console, pos_register, pos_shift,
                                           till_products):
    coffee, _ = till_products
    page = _till(pos_register) + f"?cart={coffee['id']}*2&discount={coffee['id']}&percent=10"
    applied = cashier_console.get(page)
    assert applied.status_code == 303
    assert _cart_of(applied.headers["Location"]) == f"{coffee['id']}*2*10"
    html = cashier_console.get(applied.headers["Location"]).get_data(as_text=True)
    assert 'id="total">4.95<' in html  # 5.00 less 10 %, plus 10 % tax
    too_much = cashier_console.get(
        _till(pos_register) + f"?cart={coffee['id']}*2&discount={coffee['id']}&percent=150")
    assert too_much.status_code == 422
