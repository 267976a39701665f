"""Shift totals kept at write time (issue 16, item 3): whatever sequence of sales, refunds and cash
movements a shift sees, its running totals equal a recomputation from its documents (property
test), the X and Z reports read them (per payment method and tax rate), and once the shift is
closed the database refuses any change of them, whoever asks."""

from __future__ import annotations

from decimal import Decimal as D

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.extensions import db
from core.rls import tenant_context
from plugins.pos import shift_totals

sales = st.tuples(st.just("sale"), st.integers(1, 3), st.integers(0, 2),
                  st.sampled_from([None, "10", "33.33"]), st.sampled_from(["cash", "split"]))
refunds = st.tuples(st.just("refund"), st.integers(0, 5), st.sampled_from(["cash", "card"]),
                    st.booleans())
cash = st.tuples(st.just("cash"), st.sampled_from(["in", "out"]), st.integers(1, 40))
sequences = st.lists(st.one_of(sales, refunds, cash), min_size=1, max_size=8)


def _totals(app, tenant_id, shift_id):
    with app.app_context(), tenant_context(tenant_id):
        try:
            return shift_totals.totals_of(shift_id), shift_totals.recomputed(shift_id)
        finally:
            db.session.remove()


def _run(client, register, products, operations) -> list[dict]:
    receipts = []
    for operation in operations:
        if operation[0] == "sale":
            _, coffee, mug, discount, paying = operation
            lines = [{"product_id": products[0]["id"], "quantity": str(coffee)}]
            if mug:
                lines.append({"product_id": products[1]["id"], "quantity": str(mug),
                              "discount": {"kind": "percent", "value": "50"}})
            payments = [{"method": "cash", "amount": "100.00"}]
            if paying == "split":
                payments.insert(0, {"method": "card", "amount": "1.00"})
            body = {"lines": lines, "payments": payments,
                    **({"discount": {"kind": "percent", "value": discount}} if discount else {})}
            sold = client.post(f"/api/v1/pos/registers/{register['id']}/receipts", json=body)
            assert sold.status_code == 201, sold.json
            receipts.append(sold.json)
        elif operation[0] == "refund" and receipts:
            _, index, method, partly = operation
            receipt = receipts[index % len(receipts)]
            body = {"method": method}
            if partly:
                body["lines"] = [{"receipt_line_id": receipt["lines"][0]["id"], "quantity": "1"}]
            refunded = client.post(f"/api/v1/pos/receipts/{receipt['id']}/refunds", json=body)
            assert refunded.status_code in (201, 409, 422), refunded.json  # nothing left: 409/422
        elif operation[0] == "cash":
            _, kind, amount = operation
            shift = client.get("/api/v1/pos/shifts", query_string={"status": "open"}).json[0]
            moved = client.post(f"/api/v1/pos/shifts/{shift['id']}/cash-movements",
                                json={"kind": kind, "amount": f"{amount}.00"})
            assert moved.status_code == 201, moved.json
    return receipts


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=sequences)
def test_running_totals_equal_the_recomputation(app, pos_store, pos_owner, pos_cashier,
                                                pos_register, pos_products, operations):
    pos_owner.patch("/api/v1/tenant/settings", json={"modules": {
        "stock": {"features": {"allow_negative_stock": True}}}})
    opened = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/shifts",
                              json={"opening_float": "50.00"})
    assert opened.status_code == 201, opened.json
    shift_id = opened.json["id"]
    _run(pos_cashier, pos_register, pos_products, operations)
    kept, recomputed = _totals(app, pos_store.id, shift_id)
    assert kept == recomputed
    x = pos_cashier.get(f"/api/v1/pos/shifts/{shift_id}/x-report").json
    assert D(x["expected_cash"]) == (D("50.00") + kept["cash_in"] - kept["cash_out"]
                                     + kept["paid_cash"] - kept["sales_change"]
                                     - kept["refunds_cash"])
    assert x["receipts"] == recomputed["receipts"]
    closed = pos_cashier.post(f"/api/v1/pos/shifts/{shift_id}/close",
                              json={"counted_cash": "0"})
    assert closed.status_code == 200, closed.json
    assert {key: value for key, value in closed.json.items() if key not in ("kind", "status")
            } == {key: value for key, value in x.items() if key not in (
                "kind", "status", "closed_at", "closed_by", "counted_cash", "difference")} | {
        "closed_at": closed.json["closed_at"], "closed_by": closed.json["closed_by"],
        "counted_cash": "0.00", "difference": closed.json["difference"]}
    assert _totals(app, pos_store.id, shift_id)[0] == recomputed


def test_reports_give_totals_per_tax_rate(pos_cashier, pos_register, pos_shift, pos_products):
    body = {"lines": [{"product_id": pos_products[0]["id"], "quantity": "2"},
                      {"product_id": pos_products[1]["id"], "quantity": "1"}],
            "payments": [{"method": "cash", "amount": "20.00"}]}
    for _ in range(2):
        assert pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts",
                                json=body).status_code == 201
    x = pos_cashier.get(f"/api/v1/pos/shifts/{pos_shift['id']}/x-report").json
    # Coffee 2.50 at 10 %, mug 8.00 at 21 %: two receipts of 2 coffees and a mug.
    assert x["taxes"] == [{"tax_rate": "10.00", "net": "10.00", "tax": "1.00"},
                          {"tax_rate": "21.00", "net": "16.00", "tax": "3.36"}]
    assert (x["receipts"], x["sales_total"], x["sales_tax_total"]) == (2, "30.36", "4.36")
    z = pos_cashier.post(f"/api/v1/pos/shifts/{pos_shift['id']}/close",
                         json={"counted_cash": "130.36"}).json
    assert z["taxes"] == x["taxes"] and z["difference"] == "0.00"


def test_a_closed_shifts_totals_are_frozen_for_everyone(
        pos_store, pos_cashier, pos_register, pos_shift, pos_products, admin_connection):
    assert pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts", json={
        "lines": [{"product_id": pos_products[0]["id"], "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "5.00"}]}).status_code == 201
    # While open, the totals are the shift's to change (the superuser can, for this test).
    admin_connection.execute("UPDATE pos_shift_totals SET cash_in = cash_in WHERE shift_id = %s",
                             (pos_shift["id"],))
    assert pos_cashier.post(f"/api/v1/pos/shifts/{pos_shift['id']}/close",
                            json={"counted_cash": "102.75"}).status_code == 200
    for statement in (
            "UPDATE pos_shift_totals SET sales_total = 0 WHERE shift_id = %s",
            "DELETE FROM pos_shift_totals WHERE shift_id = %s",
            "UPDATE pos_shift_tax_totals SET tax = 0 WHERE shift_id = %s",
            "INSERT INTO pos_shift_tax_totals (tenant_id, shift_id, tax_rate) "
            "SELECT tenant_id, shift_id, 99 FROM pos_shift_totals WHERE shift_id = %s"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="frozen"), \
                admin_connection.transaction():
            admin_connection.execute(statement, (pos_shift["id"],))
    z = pos_cashier.get(f"/api/v1/pos/shifts/{pos_shift['id']}/z-report").json
    assert (z["receipts"], z["sales_total"], z["expected_cash"]) == (1, "2.75", "102.75")


def test_a_refused_sale_leaves_the_totals_alone(
        app, pos_store, pos_cashier, pos_register, pos_shift, pos_products):
    refused = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts", json={
        "lines": [{"product_id": pos_products[0]["id"], "quantity": "500"}],
        "payments": [{"method": "cash", "amount": "2000.00"}]})
    assert refused.status_code == 409  # not enough stock, after the totals were added
    kept, recomputed = _totals(app, pos_store.id, pos_shift["id"])
    assert kept == recomputed and kept["receipts"] == 0
