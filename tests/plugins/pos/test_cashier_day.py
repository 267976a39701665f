"""A cashier's day over HTTP, end to end: the owner creates a register, the cashier opens a
shift, sells three receipts (cash and card), refunds one, reads the X report and closes with
the counted cash; the Z report and the stock balances match a hand computation."""

from __future__ import annotations

from decimal import Decimal as D

from tests.fixtures.products import make_product, on_hand, receive_stock


def test_a_cashiers_day(make_tenant):
    store = make_tenant(modules=["pos", "stock"])
    owner, cashier, admin = (store.as_role(r) for r in ("owner", "cashier", "admin"))
    coffee = make_product(admin, sale_price="2.50", tax_rate="10", name="Coffee")  # 2.75 with tax
    mug = make_product(admin, sale_price="8.00", tax_rate="21", name="Mug")  # 9.68 with tax
    receive_stock(admin, coffee["id"], "50")
    receive_stock(admin, mug["id"], "50")

    register = owner.post("/api/v1/pos/registers", json={"code": "MAIN", "name": "Main"}).json
    shift = cashier.post(f"/api/v1/pos/registers/{register['id']}/shifts",
                         json={"opening_float": "100.00"})
    assert shift.status_code == 201, shift.json
    shift = shift.json
    receipts_url = f"/api/v1/pos/registers/{register['id']}/receipts"

    def sell(lines, payments, key):
        response = cashier.post(receipts_url, json={"lines": lines, "payments": payments},
                                headers={"Idempotency-Key": key})
        assert response.status_code == 201, response.json
        return response.json

    # 1) 2 coffees + 1 mug = 5.50 + 9.68 = 15.18, paid 20.00 cash: change 4.82
    first = sell([{"product_id": coffee["id"], "quantity": "2"},
                  {"product_id": mug["id"], "quantity": "1"}],
                 [{"method": "cash", "amount": "20.00"}], "day-1")
    # 2) 1 mug by card: 9.68
    second = sell([{"product_id": mug["id"], "quantity": "1"}],
                  [{"method": "card", "amount": "9.68"}], "day-2")
    # 3) 3 coffees = 8.25, paid 10.00 cash: change 1.75
    third = sell([{"product_id": coffee["id"], "quantity": "3"}],
                 [{"method": "cash", "amount": "10.00"}], "day-3")
    assert [r["total"] for r in (first, second, third)] == ["15.18", "9.68", "8.25"]
    assert (first["change"], third["change"]) == ("4.82", "1.75")

    # The customer brings back the mug of the first receipt: 9.68 in cash.
    mug_line = next(line for line in first["lines"] if line["product_id"] == mug["id"])
    refund = cashier.post(f"/api/v1/pos/receipts/{first['id']}/refunds", json={
        "method": "cash", "reason": "chipped",
        "lines": [{"receipt_line_id": mug_line["id"], "quantity": "1"}]})
    assert refund.status_code == 201 and refund.json["total"] == "9.68"

    # A float top-up and a cash drop.
    shift_url = f"/api/v1/pos/shifts/{shift['id']}"
    cashier.post(f"{shift_url}/cash-movements", json={"kind": "in", "amount": "20.00"})
    cashier.post(f"{shift_url}/cash-movements", json={"kind": "out", "amount": "5.00"})

    x_report = cashier.get(f"{shift_url}/x-report")
    assert x_report.status_code == 200
    # cash kept from sales: 20.00 - 4.82 + 10.00 - 1.75 = 23.43
    # expected: 100.00 + 20.00 - 5.00 + 23.43 - 9.68 = 128.75
    expected = {"kind": "X", "receipts": 3, "sales_subtotal": "28.50",
                "sales_tax_total": "4.61", "sales_total": "33.11", "sales_cash": "23.43",
                "sales_card": "9.68", "refunds": 1, "refunds_total": "9.68",
                "refunds_cash": "9.68", "refunds_card": "0.00", "net_total": "23.43",
                "cash_in": "20.00", "cash_out": "5.00", "opening_float": "100.00",
                "expected_cash": "128.75", "counted_cash": None, "difference": None}
    assert {k: x_report.json[k] for k in expected} == expected

    closed = cashier.post(f"{shift_url}/close", json={"counted_cash": "128.00"})
    assert closed.status_code == 200, closed.json
    z_report = cashier.get(f"{shift_url}/z-report").json
    assert z_report == closed.json
    assert {k: z_report[k] for k in expected if k not in ("kind", "counted_cash", "difference")
            } == {k: v for k, v in expected.items()
                  if k not in ("kind", "counted_cash", "difference")}
    assert (z_report["kind"], z_report["status"]) == ("Z", "closed")
    assert (z_report["counted_cash"], z_report["difference"]) == ("128.00", "-0.75")
    shift_row = cashier.get(shift_url).json
    assert (shift_row["expected_cash"], shift_row["difference"]) == ("128.75", "-0.75")

    # Stock: coffee 50 - 2 - 3 = 45; mug 50 - 1 - 1 + 1 (refunded) = 49.
    assert on_hand(admin, coffee["id"]) == D("45")
    assert on_hand(admin, mug["id"]) == D("49")

    # Every document reached the (mock) fiscal device, numbered in order.
    fiscal = [r["fiscal"]["fiscal_number"] for r in
              (cashier.get(f"/api/v1/pos/receipts/{x['id']}").json
               for x in (first, second, third))]
    assert fiscal == ["MAIN-000002", "MAIN-000003", "MAIN-000004"]
    assert refund.json["fiscal"]["fiscal_number"] == "MAIN-000005"
    # After closing, selling needs a new shift.
    late = cashier.post(receipts_url, json={"lines": [{"product_id": coffee["id"],
                                                       "quantity": "1"}],
                                            "payments": [{"method": "cash", "amount": "3"}]})
    assert late.status_code == 409
