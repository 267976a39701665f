"""Offline sales sync exactly once (issue 16, item 1): the till's own receipt id makes a replay —
after a dropped answer, from two clients at once, inside a batch re-sent after reconnecting —
answer the original and change nothing; a batch records a queue in order, each sale with its
outcome; stock taken below zero offline is refused or recorded per the tenant's rule and always
reported; late sales sort by when they happened."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from core.testing.app import HostClient
from tests.fixtures.products import make_product, on_hand

PAID = [{"method": "cash", "amount": "10.00"}]


def _sale(products, quantity="2", *, client_id=None, minutes_ago=30, payments=PAID):
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {"client_receipt_id": str(client_id or uuid.uuid4()), "occurred_at": when.isoformat(),
            "lines": [{"product_id": products[0]["id"], "quantity": quantity}],
            "payments": payments}


def _receipts_url(register):
    return f"/api/v1/pos/registers/{register['id']}/receipts"


def _effects(admin_connection, tenant_id) -> dict[str, int]:
    """How many rows each effect of a sale left, read as the superuser."""
    counts = {}
    for table, where in (("pos_receipts", "true"), ("pos_payments", "true"),
                         ("stock_moves", "reason = 'pos_sale'"),
                         ("pos_fiscal_records", "document_type = 'receipt'"),
                         ("pos_mock_fiscal_documents", "kind = 'receipt'")):
        counts[table] = admin_connection.execute(
            f"SELECT count(*) FROM {table} WHERE tenant_id = %s AND {where}",
            (tenant_id,)).fetchone()[0]
    return counts


ONE_SALE = {"pos_receipts": 1, "pos_payments": 1, "stock_moves": 1, "pos_fiscal_records": 1,
            "pos_mock_fiscal_documents": 1}


def test_a_replayed_sale_answers_the_original_and_changes_nothing(
        pos_store, pos_cashier, pos_register, pos_shift, pos_products, admin_connection):
    sale = _sale(pos_products)
    first = pos_cashier.post(_receipts_url(pos_register), json=sale)
    assert first.status_code == 201, first.json
    assert first.json["client_receipt_id"] == sale["client_receipt_id"]
    assert datetime.fromisoformat(first.json["occurred_at"]) == datetime.fromisoformat(
        sale["occurred_at"])
    for _ in range(10):  # the answer was lost: the till sends it again, and again
        again = pos_cashier.post(_receipts_url(pos_register), json=sale)
        assert again.status_code == 200, again.json
        assert again.json == pos_cashier.get(f"/api/v1/pos/receipts/{first.json['id']}").json
    assert _effects(admin_connection, pos_store.id) == ONE_SALE
    assert on_hand(pos_store.as_role("admin"), pos_products[0]["id"]) == D("48")


def test_the_same_id_for_another_sale_is_422_and_changes_nothing(
        pos_store, pos_cashier, pos_register, pos_shift, pos_products, admin_connection):
    sale = _sale(pos_products)
    assert pos_cashier.post(_receipts_url(pos_register), json=sale).status_code == 201
    other = {**sale, "lines": [{"product_id": pos_products[0]["id"], "quantity": "1"}]}
    refused = pos_cashier.post(_receipts_url(pos_register), json=other)
    assert refused.status_code == 422
    assert "client_receipt_id" in refused.json["errors"]
    # The same sale written differently (2 vs 2.000, another time zone) is the same sale.
    local = datetime.fromisoformat(sale["occurred_at"]).astimezone(timezone(timedelta(hours=2)))
    same = {**sale, "occurred_at": local.isoformat(),
            "lines": [{"product_id": pos_products[0]["id"], "quantity": "2.000"}]}
    assert pos_cashier.post(_receipts_url(pos_register), json=same).status_code == 200
    assert _effects(admin_connection, pos_store.id) == ONE_SALE


def test_replays_racing_from_two_clients_record_one_sale(
        app, pos_store, pos_register, pos_shift, pos_products, admin_connection):
    sale = _sale(pos_products)
    tokens = [pos_store.token("cashier"), pos_store.token("owner")]  # a till and a second tab
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def send(token):
        client = HostClient(app.test_client(), pos_store.host, token=token)
        barrier.wait()
        statuses.append(client.post(_receipts_url(pos_register), json=sale).status_code)

    threads = [threading.Thread(target=send, args=(tokens[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 7 + [201]
    assert _effects(admin_connection, pos_store.id) == ONE_SALE


def test_a_batch_records_the_queue_in_order_and_a_resent_batch_changes_nothing(
        pos_store, pos_cashier, pos_register, pos_shift, pos_products, admin_connection):
    lost = _sale(pos_products, minutes_ago=50)
    assert pos_cashier.post(_receipts_url(pos_register), json=lost).status_code == 201
    queue = [lost, _sale(pos_products, minutes_ago=40),
             {**_sale(pos_products, minutes_ago=35),
              "lines": [{"product_id": str(uuid.uuid4()), "quantity": "1"}]},
             _sale(pos_products, minutes_ago=30)]
    url = _receipts_url(pos_register) + "/batch"
    synced = pos_cashier.post(url, json={"receipts": queue})
    assert synced.status_code == 200, synced.json
    results = synced.json["results"]
    assert [r["client_receipt_id"] for r in results] == [s["client_receipt_id"] for s in queue]
    assert [r["status"] for r in results] == ["replayed", "created", "failed", "created"]
    assert [r["http_status"] for r in results] == [200, 201, 422, 201]
    assert "lines" in results[2]["error"]["errors"] and "receipt" not in results[2]
    assert (synced.json["created"], synced.json["replayed"], synced.json["failed"]) == (2, 1, 1)
    again = pos_cashier.post(url, json={"receipts": queue})  # reconnected: the till re-sends
    assert [r["status"] for r in again.json["results"]] == [
        "replayed", "replayed", "failed", "replayed"]
    assert [r["receipt"]["id"] for r in again.json["results"] if "receipt" in r] == [
        r["receipt"]["id"] for r in results if "receipt" in r]
    effects = _effects(admin_connection, pos_store.id)
    assert effects == dict.fromkeys(ONE_SALE, 3)
    assert on_hand(pos_store.as_role("admin"), pos_products[0]["id"]) == D("44")


def test_late_sales_sort_by_when_they_happened(pos_cashier, pos_register, pos_shift,
                                               pos_products):
    recent = pos_cashier.post(_receipts_url(pos_register), json={
        "lines": [{"product_id": pos_products[0]["id"], "quantity": "1"}], "payments": PAID})
    late = pos_cashier.post(_receipts_url(pos_register) + "/batch", json={
        "receipts": [_sale(pos_products, minutes_ago=90)]})
    listed = [r["id"] for r in pos_cashier.get("/api/v1/pos/receipts").json]
    assert listed == [recent.json["id"], late.json["results"][0]["receipt"]["id"]]


def test_stock_short_offline_is_refused_without_negative_stock(
        pos_store, pos_cashier, pos_register, pos_shift, pos_products, admin_connection):
    too_many = _sale(pos_products, "60", payments=[{"method": "cash", "amount": "200.00"}])
    synced = pos_cashier.post(_receipts_url(pos_register) + "/batch", json={
        "receipts": [too_many, _sale(pos_products, "1")]})
    first, second = synced.json["results"]
    assert (first["status"], first["http_status"]) == ("failed", 409)
    assert first["error"]["errors"]["insufficient"][0]["product_id"] == pos_products[0]["id"]
    assert second["status"] == "created" and second["stock_below_zero"] == []
    assert on_hand(pos_store.as_role("admin"), pos_products[0]["id"]) == D("49")


def test_stock_short_offline_is_recorded_and_reported_with_negative_stock(
        pos_store, pos_owner, pos_cashier, pos_register, pos_shift, pos_products):
    assert pos_owner.patch("/api/v1/tenant/settings", json={"modules": {
        "stock": {"features": {"allow_negative_stock": True}}}}).status_code == 200
    too_many = _sale(pos_products, "60", payments=[{"method": "cash", "amount": "200.00"}])
    synced = pos_cashier.post(_receipts_url(pos_register) + "/batch", json={
        "receipts": [too_many]})
    outcome = synced.json["results"][0]
    assert outcome["status"] == "created"
    [below] = outcome["stock_below_zero"]
    assert below["product_id"] == pos_products[0]["id"] and below["on_hand"] == "-10.000"


def test_no_open_shift_fails_each_sale_and_keeps_nothing(
        pos_store, pos_cashier, pos_register, pos_products, admin_connection):
    synced = pos_cashier.post(_receipts_url(pos_register) + "/batch", json={
        "receipts": [_sale(pos_products), _sale(pos_products)]})
    assert synced.status_code == 200
    assert [r["http_status"] for r in synced.json["results"]] == [409, 409]
    assert _effects(admin_connection, pos_store.id)["pos_receipts"] == 0


@pytest.mark.parametrize(("change", "errors_at"), [
    # The till's clock is ahead: the schema accepts the time, the sale refuses it.
    ({"occurred_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, ()),
    ({"occurred_at": "2026-12-04T10:00:00"}, ("json",)),  # no time zone
    ({"client_receipt_id": "not-a-uuid"}, ("json",)),
    ({"client_receipt_id": None}, ("json",))])
def test_invalid_offline_sale_is_422_and_writes_nothing(
        pos_store, pos_cashier, pos_register, pos_shift, pos_products, admin_connection, change,
        errors_at):
    sale = {**_sale(pos_products), **change}
    batch = pos_cashier.post(_receipts_url(pos_register) + "/batch", json={"receipts": [sale]})
    if errors_at:  # the schema refuses the whole batch
        assert batch.status_code == 422
    else:  # the sale refuses itself: the batch reports it
        assert batch.json["results"][0]["http_status"] == 422
    single = pos_cashier.post(_receipts_url(pos_register), json=sale)
    if change.get("client_receipt_id", "") is None:
        assert single.status_code == 201  # the single endpoint: no client id is an online sale
    else:
        assert single.status_code == 422
        errors = single.json["errors"]
        for key in errors_at:
            errors = errors[key]
        assert list(errors) == list(change)
    expected = 1 if change.get("client_receipt_id", "") is None else 0
    assert _effects(admin_connection, pos_store.id)["pos_receipts"] == expected


@pytest.mark.parametrize("body", [{}, {"receipts": []},
                                  {"receipts": [{"lines": [], "payments": []}]},
                                  {"receipts": "x"}])
def test_invalid_batch_is_422(pos_cashier, pos_register, pos_shift, body):
    response = pos_cashier.post(_receipts_url(pos_register) + "/batch", json=body)
    assert response.status_code == 422 and "receipts" in response.json["errors"]["json"]


def test_a_batch_above_its_size_is_422(pos_cashier, pos_register, pos_shift, pos_products):
    queue = [_sale(pos_products, "1") for _ in range(101)]
    response = pos_cashier.post(_receipts_url(pos_register) + "/batch", json={"receipts": queue})
    assert response.status_code == 422


def test_batch_access(pos_store, pos_register, pos_products, issue_key, make_tenant):
    url = _receipts_url(pos_register) + "/batch"
    body = {"receipts": [_sale(pos_products)]}
    assert pos_store.anonymous().post(url, json=body).status_code == 401
    key = pos_store.anonymous().with_api_key(issue_key(pos_store, "user"))
    assert key.post(url, json=body).status_code == 403
    other = make_tenant(modules=["pos", "stock"]).as_role("owner")
    assert other.post(url, json=body).status_code == 404  # another tenant's register
    disabled = make_tenant(modules=["sales"]).as_role("owner")
    refused = disabled.post(url, json=body)
    assert refused.status_code == 403 and "'pos'" in refused.json["message"]


def test_a_client_id_is_per_register(pos_store, pos_owner, pos_cashier, pos_register,
                                     pos_shift, pos_products):
    second = pos_owner.post("/api/v1/pos/registers", json={"code": "R2", "name": "Back"}).json
    assert pos_cashier.post(f"/api/v1/pos/registers/{second['id']}/shifts",
                            json={}).status_code == 201
    sale = _sale(pos_products)
    one = pos_cashier.post(_receipts_url(pos_register), json=sale)
    two = pos_cashier.post(_receipts_url(second), json=sale)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json["id"] != two.json["id"]


def test_another_tenants_product_in_a_batch_fails_that_sale(
        pos_cashier, pos_register, pos_shift, pos_products, make_tenant):
    theirs = make_product(make_tenant(modules=["catalog"]).as_role("admin"), sale_price="1.00")
    sale = {**_sale(pos_products), "lines": [{"product_id": theirs["id"], "quantity": "1"}]}
    outcome = pos_cashier.post(_receipts_url(pos_register) + "/batch",
                               json={"receipts": [sale]}).json["results"][0]
    assert (outcome["status"], outcome["http_status"]) == ("failed", 422)
    assert theirs["name"] not in str(outcome)


def test_the_sales_report_counts_a_late_sale_on_the_day_it_happened(
        pos_owner, pos_cashier, pos_register, pos_shift, pos_products):
    pos_owner.patch("/api/v1/tenant/settings", json={"modules": {"reports": {"enabled": True}}})
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    sale = {**_sale(pos_products), "occurred_at": three_days_ago.isoformat()}
    assert pos_cashier.post(_receipts_url(pos_register), json=sale).status_code == 201
    day = three_days_ago.date()
    rows = pos_owner.get("/api/v1/reports/pos_sales_by_day", query_string={
        "date_from": str(day - timedelta(days=1)), "date_to": str(day + timedelta(days=1))})
    assert rows.status_code == 200, rows.json
    assert [(row["day"], row["receipts"]) for row in rows.json["rows"]] == [(str(day), 1)]
