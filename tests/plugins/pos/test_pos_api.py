"""POS over HTTP: settings, registers, shifts (one open per register, also under concurrency),
cash movements, receipts (open shift only, payments and change, idempotent retries), refunds,
X/Z reports, fiscal registration through providers, roles, tenants and the module toggle."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal as D

import psycopg
import pytest

from core.testing.app import HostClient
from tests.fixtures.commerce import moves_of, sell
from tests.fixtures.products import make_product, on_hand

COFFEE_TWICE = "2"


def _lines(products, coffee="2", mug=None):
    lines = [{"product_id": products[0]["id"], "quantity": coffee}]
    if mug:
        lines.append({"product_id": products[1]["id"], "quantity": mug})
    return lines


def _count(admin_connection, table, tenant_id, where="true", params=()):
    return admin_connection.execute(
        f"SELECT count(*) FROM {table} WHERE tenant_id = %s AND {where}",
        (tenant_id, *params)).fetchone()[0]


# --------------------------------------------------------------------------- registers


def test_owner_manages_registers(pos_owner, pos_cashier):
    created = pos_owner.post("/api/v1/pos/registers", json={"code": "T2", "name": "Terrace"})
    assert created.status_code == 201, created.json
    url = f"/api/v1/pos/registers/{created.json['id']}"
    assert pos_cashier.get(url).json["code"] == "T2"  # cashiers see registers
    assert [r["code"] for r in pos_cashier.get("/api/v1/pos/registers").json] == ["T2"]
    renamed = pos_owner.patch(url, json={"name": "Terrace bar"})
    assert renamed.status_code == 200 and renamed.json["name"] == "Terrace bar"
    assert pos_owner.post("/api/v1/pos/registers", json={"code": "T2", "name": "x"}
                          ).status_code == 409
    assert pos_owner.delete(url).status_code == 204
    assert pos_owner.get(url).status_code == 404


@pytest.mark.parametrize("role", ["admin", "cashier"])
def test_only_owners_write_registers(pos_store, pos_register, role):
    client = pos_store.as_role(role)
    url = f"/api/v1/pos/registers/{pos_register['id']}"
    assert client.post("/api/v1/pos/registers", json={"code": "X", "name": "X"}
                       ).status_code == 403
    assert client.patch(url, json={"name": "X"}).status_code == 403
    assert client.delete(url).status_code == 403
    assert client.get("/api/v1/pos/settings").status_code == 403


@pytest.mark.parametrize("body", [{}, {"code": "", "name": "x"}, {"code": "A", "name": " x"},
                                  {"code": "A" * 33, "name": "x"},
                                  {"code": "A", "name": "x", "location_id": "nope"}])
def test_invalid_register_is_422(pos_owner, body):
    assert pos_owner.post("/api/v1/pos/registers", json=body).status_code == 422


def test_register_with_history_cannot_be_deleted_or_deactivated_while_open(
        pos_owner, pos_register, pos_shift):
    url = f"/api/v1/pos/registers/{pos_register['id']}"
    assert pos_owner.patch(url, json={"active": False}).status_code == 409
    assert pos_owner.delete(url).status_code == 409


# --------------------------------------------------------------------------- settings


def test_provider_settings_row_then_config_then_mock(app, pos_owner):
    settings = pos_owner.get("/api/v1/pos/settings").json
    assert settings == {"cash_register_provider": None, "effective_provider": "mock",
                        "fiscal_mode": "live", "available_providers": ["mock", "unavailable"]}
    app.config["CASH_REGISTER_PROVIDER"] = "unavailable"
    try:
        assert pos_owner.get("/api/v1/pos/settings").json["effective_provider"] == "unavailable"
        chosen = pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "mock"})
        assert chosen.status_code == 200
        assert chosen.json["effective_provider"] == "mock"  # the row wins over the config
    finally:
        app.config["CASH_REGISTER_PROVIDER"] = "mock"
    unknown = pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "acme"})
    assert unknown.status_code == 422
    assert pos_owner.put("/api/v1/pos/settings", json={}).status_code == 422


# --------------------------------------------------------------------------- shifts


def test_one_open_shift_per_register(pos_cashier, pos_register, pos_shift):
    again = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/shifts", json={})
    assert again.status_code == 409
    assert pos_shift["status"] == "open" and pos_shift["opening_float"] == "100.00"


def test_two_shifts_cannot_open_concurrently(app, pos_store, pos_register, admin_connection):
    token = pos_store.token("cashier")
    url = f"/api/v1/pos/registers/{pos_register['id']}/shifts"
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def open_shift():
        client = HostClient(app.test_client(), pos_store.host, token=token)
        barrier.wait()
        statuses.append(client.post(url, json={"opening_float": "10.00"}).status_code)

    threads = [threading.Thread(target=open_shift) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert _count(admin_connection, "pos_shifts", pos_store.id, "status = 'open'") == 1


def test_the_database_refuses_a_second_open_shift(pos_store, pos_register, pos_shift,
                                                  admin_connection):
    with pytest.raises(psycopg.errors.UniqueViolation):
        admin_connection.execute(
            "INSERT INTO pos_shifts (tenant_id, id, register_id, status, opening_float, "
            "opened_by) VALUES (%s, %s, %s, 'open', 0, 'test')",
            (pos_store.id, uuid.uuid4(), pos_register["id"]))


def test_cash_movements_and_closed_shift(pos_cashier, pos_shift):
    url = f"/api/v1/pos/shifts/{pos_shift['id']}"
    assert pos_cashier.post(f"{url}/cash-movements", json={"kind": "in", "amount": "5.00"}
                            ).status_code == 201
    for body in ({"kind": "in", "amount": "0"}, {"kind": "sideways", "amount": "1"},
                 {"kind": "out"}, {"kind": "out", "amount": "1.001"}):
        assert pos_cashier.post(f"{url}/cash-movements", json=body).status_code == 422
    assert len(pos_cashier.get(f"{url}/cash-movements").json) == 1
    assert pos_cashier.get(f"{url}/z-report").status_code == 409  # still open
    assert pos_cashier.post(f"{url}/close", json={"counted_cash": "-1"}).status_code == 422
    closed = pos_cashier.post(f"{url}/close", json={"counted_cash": "105.00"})
    assert closed.status_code == 200 and closed.json["difference"] == "0.00"
    assert pos_cashier.post(f"{url}/close", json={"counted_cash": "1"}).status_code == 409
    assert pos_cashier.get(f"{url}/x-report").status_code == 409
    assert pos_cashier.post(f"{url}/cash-movements", json={"kind": "in", "amount": "1"}
                            ).status_code == 409
    assert pos_cashier.get(f"{url}/z-report").json == closed.json
    listed = pos_cashier.get("/api/v1/pos/shifts?status=closed").json
    assert [s["id"] for s in listed] == [pos_shift["id"]]


# --------------------------------------------------------------------------- receipts


def test_receipt_outside_an_open_shift_is_409(pos_cashier, pos_register, pos_products):
    sell(pos_cashier, pos_register, _lines(pos_products),
         [{"method": "cash", "amount": "10.00"}], expect=409)
    shift = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/shifts",
                             json={}).json
    pos_cashier.post(f"/api/v1/pos/shifts/{shift['id']}/close", json={"counted_cash": "0"})
    sell(pos_cashier, pos_register, _lines(pos_products),
         [{"method": "cash", "amount": "10.00"}], expect=409)


def test_receipt_prices_pays_gives_change_and_moves_stock(pos_store, pos_cashier,
                                                          pos_register, pos_shift, pos_products,
                                                          admin_connection):
    receipt = sell(pos_cashier, pos_register, _lines(pos_products, "2", "1"),
                   [{"method": "card", "amount": "10.00"}, {"method": "cash", "amount": "10.00"}])
    # 2 x 2.50 = 5.00 + 10 % = 5.50; 8.00 + 21 % = 9.68; total 15.18, paid 20.00
    assert (receipt["subtotal"], receipt["tax_total"], receipt["total"]) == (
        "13.00", "2.18", "15.18")
    assert (receipt["paid"], receipt["change"]) == ("20.00", "4.82")
    assert receipt["shift_id"] == pos_shift["id"]
    assert receipt["fiscal"]["status"] == "registered"
    assert receipt["fiscal"]["fiscal_number"] == "R1-000002"  # 1 was the shift opening
    assert moves_of(admin_connection, pos_store.id, receipt["id"]) == [
        ("pos_sale", D("-2.000")), ("pos_sale", D("-1.000"))]
    assert pos_cashier.get(f"/api/v1/pos/receipts/{receipt['id']}").json == receipt


@pytest.mark.parametrize("payments, message", [
    ([{"method": "cash", "amount": "5.00"}], "do not cover"),
    ([{"method": "card", "amount": "6.00"}], "only cash gives change"),
    ([], "do not cover"),
])
def test_payments_must_cover_and_only_cash_gives_change(pos_cashier, pos_register, pos_shift,
                                                        pos_products, payments, message):
    response = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts",
                                json={"lines": _lines(pos_products), "payments": payments})
    assert response.status_code == 422
    assert message in response.json["message"]


@pytest.mark.parametrize("body", [
    {"payments": [{"method": "cash", "amount": "1"}]},
    {"lines": [], "payments": []},
    {"lines": [{"product_id": "x", "quantity": "1"}], "payments": []},
    {"lines": [{"quantity": "1"}], "payments": []},
    {"lines": "nope", "payments": []},
])
def test_invalid_receipts_are_422(pos_cashier, pos_register, pos_shift, body):
    response = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts",
                                json=body)
    assert response.status_code == 422


def test_bad_payment_method_and_other_tenants_product_are_422(
        pos_cashier, pos_register, pos_shift, pos_products, make_tenant):
    url = f"/api/v1/pos/registers/{pos_register['id']}/receipts"
    bad_method = pos_cashier.post(url, json={"lines": _lines(pos_products), "payments": [
        {"method": "cheque", "amount": "9"}]})
    assert bad_method.status_code == 422
    theirs = make_product(make_tenant(modules=["catalog"]).as_role("admin"), sale_price="1.00")
    foreign = pos_cashier.post(url, json={
        "lines": [{"product_id": theirs["id"], "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "5"}]})
    assert foreign.status_code == 422
    assert foreign.json["errors"] == {"lines": {"0": {"product_id": ["unknown product"]}}}
    assert foreign.json["message"] == "invalid receipt lines"


def test_receipt_replay_with_idempotency_key_sells_once(pos_store, pos_cashier, pos_register,
                                                        pos_shift, pos_products,
                                                        admin_connection):
    headers = {"Idempotency-Key": f"till-1-{uuid.uuid4()}"}
    lines, payments = _lines(pos_products, "1"), [{"method": "cash", "amount": "5.00"}]
    first = sell(pos_cashier, pos_register, lines, payments, headers=headers)
    again = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts",
                             json={"lines": lines, "payments": payments}, headers=headers)
    assert again.status_code == 201 and again.json == first
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(admin_connection, "pos_receipts", pos_store.id) == 1
    assert _count(admin_connection, "pos_mock_fiscal_documents", pos_store.id,
                  "kind = 'receipt'") == 1
    assert len(moves_of(admin_connection, pos_store.id, first["id"])) == 1
    assert on_hand(pos_store.as_role("admin"), pos_products[0]["id"]) == D("49")


def test_receipts_and_refunds_are_append_only(pos_store, pos_cashier, pos_register, pos_shift,
                                              pos_products, admin_connection):
    receipt = sell(pos_cashier, pos_register, _lines(pos_products, "1"),
                   [{"method": "cash", "amount": "5.00"}])
    for statement in ("UPDATE pos_receipts SET total = 0 WHERE id = %s",
                      "DELETE FROM pos_receipt_lines WHERE receipt_id = %s",
                      "UPDATE pos_payments SET amount = 1 WHERE receipt_id = %s"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            admin_connection.execute(statement, (receipt["id"],))


# --------------------------------------------------------------------------- refunds


def test_refunds_partial_then_rest_then_nothing_left(pos_store, pos_cashier, pos_register,
                                                     pos_shift, pos_products,
                                                     admin_connection):
    receipt = sell(pos_cashier, pos_register, _lines(pos_products, "3"),
                   [{"method": "cash", "amount": "10.00"}])
    url = f"/api/v1/pos/receipts/{receipt['id']}/refunds"
    line_id = receipt["lines"][0]["id"]
    first = pos_cashier.post(url, json={"method": "cash", "lines": [
        {"receipt_line_id": line_id, "quantity": "1"}]})
    assert first.status_code == 201, first.json
    assert first.json["total"] == "2.75" and first.json["fiscal"]["status"] == "registered"
    too_many = pos_cashier.post(url, json={"method": "cash", "lines": [
        {"receipt_line_id": line_id, "quantity": "3"}]})
    assert too_many.status_code == 422
    rest = pos_cashier.post(url, json={"method": "card"})  # no lines: everything left
    assert rest.status_code == 201 and rest.json["total"] == "5.50"
    assert pos_cashier.post(url, json={"method": "cash"}).status_code == 409
    assert moves_of(admin_connection, pos_store.id, rest.json["id"]) == [("return", D("2.000"))]
    assert len(pos_cashier.get(url).json) == 2
    assert pos_cashier.get(f"/api/v1/pos/refunds/{first.json['id']}").status_code == 200
    not_ours = pos_cashier.post(url, json={"method": "cash", "lines": [
        {"receipt_line_id": str(uuid.uuid4()), "quantity": "1"}]})
    assert not_ours.status_code == 422


def test_refund_needs_an_open_shift(pos_cashier, pos_register, pos_shift, pos_products):
    receipt = sell(pos_cashier, pos_register, _lines(pos_products, "1"),
                   [{"method": "cash", "amount": "5.00"}])
    pos_cashier.post(f"/api/v1/pos/shifts/{pos_shift['id']}/close", json={"counted_cash": "0"})
    response = pos_cashier.post(f"/api/v1/pos/receipts/{receipt['id']}/refunds",
                                json={"method": "cash"})
    assert response.status_code == 409


# --------------------------------------------------------------------------- fiscal


def test_failing_provider_keeps_the_receipt_pending_and_retry_fiscal_completes_it(
        app, pos_store, pos_owner, pos_cashier, pos_register, pos_shift, pos_products,
        admin_connection):
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "unavailable"})
    receipt = sell(pos_cashier, pos_register, _lines(pos_products, "1"),
                   [{"method": "cash", "amount": "5.00"}])
    # An outside provider hears of the sale after its commit (the outbox): the answer was
    # written before that, and the attempt made right after the commit failed.
    assert (receipt["fiscal"]["status"], receipt["fiscal"]["attempts"]) == ("pending", 0)
    after = pos_cashier.get(f"/api/v1/pos/receipts/{receipt['id']}").json["fiscal"]
    assert (after["status"], after["attempts"]) == ("pending", 1)
    assert "unreachable" in after["last_error"]
    pending = pos_cashier.get("/api/v1/pos/receipts?fiscal_status=pending").json
    assert [r["id"] for r in pending] == [receipt["id"]]
    assert on_hand(pos_store.as_role("admin"), pos_products[0]["id"]) == D("49")  # sold

    runner = app.test_cli_runner()
    still_down = runner.invoke(args=["pos", "retry-fiscal", "--tenant", pos_store.slug])
    assert still_down.exit_code == 1 and "1 still pending" in still_down.output

    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "mock"})
    result = runner.invoke(args=["pos", "retry-fiscal"])
    assert "1 registered, 0 still pending" in result.output, result.output
    fiscal = pos_cashier.get(f"/api/v1/pos/receipts/{receipt['id']}").json["fiscal"]
    assert (fiscal["status"], fiscal["provider"], fiscal["attempts"]) == (
        "registered", "mock", 3)
    assert _count(admin_connection, "pos_mock_fiscal_documents", pos_store.id,
                  "kind = 'receipt' AND document_id = %s", (receipt["id"],)) == 1


def test_pending_documents_are_retried_before_the_next_receipt(pos_owner, pos_cashier,
                                                               pos_register, pos_shift,
                                                               pos_products):
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "unavailable"})
    first = sell(pos_cashier, pos_register, _lines(pos_products, "1"),
                 [{"method": "cash", "amount": "5.00"}])
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": None})
    second = sell(pos_cashier, pos_register, _lines(pos_products, "1"),
                  [{"method": "cash", "amount": "5.00"}])
    first_now = pos_cashier.get(f"/api/v1/pos/receipts/{first['id']}").json["fiscal"]
    assert first_now["status"] == second["fiscal"]["status"] == "registered"
    # The device numbers documents in order: the older receipt first.
    assert first_now["fiscal_number"] < second["fiscal"]["fiscal_number"]


def test_mock_numbers_are_sequential_per_register(pos_owner, pos_cashier, pos_register,
                                                  pos_shift, pos_products):
    other = pos_owner.post("/api/v1/pos/registers", json={"code": "R2", "name": "Back"}).json
    pos_cashier.post(f"/api/v1/pos/registers/{other['id']}/shifts", json={})
    numbers = [sell(pos_cashier, register, _lines(pos_products, "1"),
                    [{"method": "cash", "amount": "5.00"}])["fiscal"]["fiscal_number"]
               for register in (pos_register, other, pos_register)]
    assert numbers == ["R1-000002", "R2-000002", "R1-000003"]


# --------------------------------------------------------------------------- access


def test_another_tenants_ids_are_404(pos_cashier, make_tenant):
    other = make_tenant(modules=["pos"])
    owner = other.as_role("owner")
    register = owner.post("/api/v1/pos/registers", json={"code": "Z", "name": "Z"}).json
    shift = owner.post(f"/api/v1/pos/registers/{register['id']}/shifts", json={}).json
    product = make_product(other.as_role("admin"), sale_price="1.00")
    receipt = sell(owner, register, [{"product_id": product["id"], "quantity": "1"}],
                   [{"method": "cash", "amount": "1.00"}])
    sale = {"lines": [{"product_id": product["id"], "quantity": "1"}],
            "payments": [{"method": "cash", "amount": "1.00"}]}
    for method, path, body in (
            ("GET", f"/api/v1/pos/registers/{register['id']}", None),
            ("POST", f"/api/v1/pos/registers/{register['id']}/shifts", {}),
            ("POST", f"/api/v1/pos/registers/{register['id']}/receipts", sale),
            ("GET", f"/api/v1/pos/shifts/{shift['id']}", None),
            ("GET", f"/api/v1/pos/shifts/{shift['id']}/x-report", None),
            ("POST", f"/api/v1/pos/shifts/{shift['id']}/close", {"counted_cash": "1"}),
            ("GET", f"/api/v1/pos/shifts/{shift['id']}/cash-movements", None),
            ("POST", f"/api/v1/pos/shifts/{shift['id']}/cash-movements",
             {"kind": "in", "amount": "1"}),
            ("GET", f"/api/v1/pos/receipts/{receipt['id']}", None),
            ("POST", f"/api/v1/pos/receipts/{receipt['id']}/refunds", {"method": "cash"}),
            ("GET", f"/api/v1/pos/refunds/{uuid.uuid4()}", None)):
        assert pos_cashier.open(method, path, json=body).status_code == 404, path
    assert owner.get(f"/api/v1/pos/shifts/{shift['id']}").json["status"] == "open"


def test_anonymous_is_401_and_user_api_keys_are_403(pos_store, pos_register, issue_key):
    paths = ("/api/v1/pos/registers", "/api/v1/pos/shifts", "/api/v1/pos/receipts",
             "/api/v1/pos/settings")
    for path in paths:
        assert pos_store.anonymous().get(path).status_code == 401
    key = pos_store.anonymous().with_api_key(issue_key(pos_store, "user"))
    for path in paths:
        assert key.get(path).status_code == 403
    assert pos_store.anonymous().post(
        f"/api/v1/pos/registers/{pos_register['id']}/receipts", json={}).status_code == 401


def test_module_disabled_is_403(make_tenant):
    owner = make_tenant(modules=["sales"]).as_role("owner")
    for method, path in (("GET", "/api/v1/pos/registers"), ("POST", "/api/v1/pos/registers"),
                         ("GET", "/api/v1/pos/settings"),
                         ("POST", f"/api/v1/pos/registers/{uuid.uuid4()}/receipts"),
                         ("GET", f"/api/v1/pos/shifts/{uuid.uuid4()}/x-report")):
        response = owner.open(method, path, json={})
        assert response.status_code == 403
        assert response.json["message"] == "module 'pos' is not enabled for this tenant"
