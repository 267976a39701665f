"""The reports sales and POS contribute, against amounts computed by hand on a small day of
business: run directly through the definitions, and over HTTP through /api/v1/reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from core.extensions import db
from core.rls import tenant_context
from tests.fixtures.commerce import sell
from tests.fixtures.products import make_product, receive_stock


@pytest.fixture
def day(make_tenant):
    """A tenant's day: two fulfilled orders (+ a draft) and a return; two receipts and a
    refund in one shift. Products: A 10.00 at 21 % tax, B 2.50 tax-free."""
    tenant = make_tenant(modules=["pos", "stock", "reports"])
    owner, admin, cashier = (tenant.as_role(r) for r in ("owner", "admin", "cashier"))
    a = make_product(admin, sale_price="10.00", tax_rate="21", name="A")
    b = make_product(admin, sale_price="2.50", name="B")
    for product in (a, b):
        receive_stock(admin, product["id"], "20")

    def order(lines, fulfil=True):
        made = cashier.post("/api/v1/sales/orders", json={"lines": lines}).json
        if fulfil:
            cashier.post(f"/api/v1/sales/orders/{made['id']}/confirm")
            assert cashier.post(f"/api/v1/sales/orders/{made['id']}/fulfil").status_code == 200
        return made

    # Order 1: 2 A -10 % = 18.00 + 3.78 tax = 21.78; 3 B = 7.50. Order 2: 1 B = 2.50.
    first = order([{"product_id": a["id"], "quantity": "2",
                    "discount": {"kind": "percent", "value": "10"}},
                   {"product_id": b["id"], "quantity": "3"}])
    order([{"product_id": b["id"], "quantity": "1"}])
    order([{"product_id": a["id"], "quantity": "5"}], fulfil=False)  # a draft: not a sale
    # Return 1 of the 2 A: half of 21.78 = 10.89.
    returned = cashier.post(f"/api/v1/sales/orders/{first['id']}/returns", json={"lines": [
        {"order_line_id": first["lines"][0]["id"], "quantity": "1"}]})
    assert returned.json["total"] == "10.89"

    register = owner.post("/api/v1/pos/registers", json={"code": "R", "name": "R"}).json
    shift = cashier.post(f"/api/v1/pos/registers/{register['id']}/shifts", json={}).json
    # Receipt 1: 1 A = 12.10 in cash (20.00, change 7.90). Receipt 2: 4 B = 10.00 by card.
    sell(cashier, register, [{"product_id": a["id"], "quantity": "1"}],
         [{"method": "cash", "amount": "20.00"}])
    second = sell(cashier, register, [{"product_id": b["id"], "quantity": "4"}],
                  [{"method": "card", "amount": "10.00"}])
    # Refund 1 B by card: 2.50.
    cashier.post(f"/api/v1/pos/receipts/{second['id']}/refunds", json={
        "method": "card", "lines": [{"receipt_line_id": second["lines"][0]["id"],
                                     "quantity": "1"}]})
    return {"tenant": tenant, "owner": owner, "cashier": cashier, "a": a, "b": b,
            "shift": shift}


def _range():
    today = datetime.now(UTC).date()
    return {"date_from": str(today - timedelta(days=1)), "date_to": str(today + timedelta(days=1))}


def _summed(rows, columns):
    """Column totals over the days returned (a run across midnight splits the day)."""
    return {c: sum((D(str(row[c])) for row in rows), D("0")) for c in columns}


def test_sales_by_day_run_directly(app, day):
    from plugins.sales.reports import definitions

    definition = next(d for d in definitions() if d.name == "sales_by_day")
    with app.app_context(), tenant_context(day["tenant"].id):
        rows = definition.run(day["tenant"].id, definition.parameters().load(_range()))
        db.session.rollback()
    assert set(rows[0]) == set(definition.columns)
    assert _summed(rows, ("orders", "subtotal", "discount_total", "tax_total", "total",
                          "returns", "returned", "net_total")) == {
        "orders": 2, "subtotal": D("30.00"), "discount_total": D("2.00"),
        "tax_total": D("3.78"), "total": D("31.78"), "returns": 1, "returned": D("10.89"),
        "net_total": D("20.89")}


def test_sales_top_products_over_http(day):
    response = day["owner"].get("/api/v1/reports/sales_top_products", query_string=_range())
    assert response.status_code == 200, response.json
    rows = [(r["sku"], D(r["quantity"]), D(r["returned_quantity"]), D(r["revenue"]),
             D(r["returned_amount"]), D(r["net_revenue"])) for r in response.json["rows"]]
    assert rows == [
        (day["a"]["sku"], D("2"), D("1"), D("21.78"), D("10.89"), D("10.89")),
        (day["b"]["sku"], D("4"), D("0"), D("10.00"), D("0"), D("10.00"))]


def test_pos_reports_over_http(day):
    owner = day["owner"]
    by_day = owner.get("/api/v1/reports/pos_sales_by_day", query_string=_range())
    assert by_day.status_code == 200, by_day.json
    assert _summed(by_day.json["rows"], ("receipts", "subtotal", "tax_total", "total",
                                         "refunds", "refunded", "net_total")) == {
        "receipts": 2, "subtotal": D("20.00"), "tax_total": D("2.10"), "total": D("22.10"),
        "refunds": 1, "refunded": D("2.50"), "net_total": D("19.60")}
    top = owner.get("/api/v1/reports/pos_top_products", query_string={**_range(), "limit": 1})
    assert [(r["sku"], r["net_revenue"]) for r in top.json["rows"]] == [
        (day["a"]["sku"], "12.10")]
    shift = day["cashier"].get("/api/v1/reports/pos_shift_report",
                               query_string={"shift_id": day["shift"]["id"]})
    assert shift.status_code == 200, shift.json
    [row] = shift.json["rows"]
    assert (row["kind"], row["receipts"], row["sales_total"], row["sales_cash"],
            row["refunds_card"], row["expected_cash"]) == ("X", 2, "22.10", "12.10", "2.50",
                                                           "12.10")


def test_report_parameters_are_checked(day):
    owner = day["owner"]
    too_long = owner.get("/api/v1/reports/sales_by_day",
                         query_string={"date_from": "2020-01-01", "date_to": "2021-06-01"})
    assert too_long.status_code == 422
    assert owner.get("/api/v1/reports/pos_top_products",
                     query_string={"limit": "0"}).status_code == 422
    other_shift = owner.get("/api/v1/reports/pos_shift_report",
                            query_string={"shift_id": "00000000-0000-0000-0000-000000000000"})
    assert other_shift.status_code == 422
    assert day["cashier"].get("/api/v1/reports/sales_by_day").status_code == 403
