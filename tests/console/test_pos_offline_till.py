"""The offline till's server side (plugins/pos/console.py): the catalogue a till keeps on the
device, and the sync of the device's queue — each sale recorded once (a re-sent queue replays),
refused sales reported with the reason, the CSRF token required, and the guards of every page
(no session, module disabled, another tenant's register). The browser half is
tests/console/browser/test_offline_till.py."""

from __future__ import annotations

import uuid

import pytest

from core.testing.console import ConsoleClient, form_token
from tests.fixtures.products import make_product, receive_stock


@pytest.fixture
def coffee(pos_store):
    admin = pos_store.as_role("admin")
    product = make_product(admin, sale_price="2.50", tax_rate="10", name="Coffee",
                           barcode="4006381333931")
    receive_stock(admin, product["id"], "50")
    retired = make_product(admin, sale_price="1.00", name="Old stock")
    assert admin.patch(f"/api/v1/catalog/products/{retired['id']}",
                       json={"active": False}).status_code == 200
    return product


@pytest.fixture
def cashier_console(pos_store, console_as):
    return console_as(pos_store, "cashier")


def _sale(product_id, quantity="2", amount="5.50", method="cash", client_id=None):
    return {"client_receipt_id": client_id or str(uuid.uuid4()),
            "occurred_at": "2026-12-04T07:00:00+00:00",
            "lines": [{"product_id": product_id, "quantity": quantity}],
            "payments": [{"method": method, "amount": amount}]}


def _sync(console, register, receipts, token=None):
    till = console.get(f"/pos/registers/{register['id']}/till").get_data(as_text=True)
    headers = {"X-CSRF-Token": form_token(till) if token is None else token}
    return console.client.post(f"/pos/registers/{register['id']}/till/sync",
                               base_url=f"http://{console.host}", json={"receipts": receipts},
                               headers=headers)


def test_the_catalogue_holds_active_products_with_exact_prices(cashier_console, pos_register,
                                                               coffee):
    answer = cashier_console.get(f"/pos/registers/{pos_register['id']}/till/catalogue")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.json["products"] == [{
        "id": coffee["id"], "name": "Coffee", "sku": coffee["sku"],
        "barcode": "4006381333931", "price": "2.50", "tax_rate": "10.00"}]


def test_the_till_page_carries_the_offline_script_and_its_urls(cashier_console, pos_register,
                                                                pos_shift):
    page = cashier_console.get(f"/pos/registers/{pos_register['id']}/till").get_data(
        as_text=True)
    assert "/pos/static/till-offline.js" in page
    assert f'data-sync-url="/pos/registers/{pos_register["id"]}/till/sync"' in page
    script = cashier_console.get("/pos/static/till-offline.js")
    assert script.status_code == 200 and b"client_receipt_id" in script.get_data()


def test_a_queue_is_recorded_once_and_a_resent_queue_replays(cashier_console, pos_cashier,
                                                             pos_register, pos_shift, coffee):
    queue = [_sale(coffee["id"]), _sale(coffee["id"], "1", "2.75", "card")]
    first = _sync(cashier_console, pos_register, queue)
    assert first.status_code == 200, first.get_data(as_text=True)[:300]
    assert (first.json["created"], first.json["replayed"], first.json["failed"]) == (2, 0, 0)
    assert [r["total"] for r in first.json["results"]] == ["5.50", "2.75"]
    again = _sync(cashier_console, pos_register, queue)  # the answer was lost: sent again
    assert (again.json["created"], again.json["replayed"]) == (0, 2)
    receipts = pos_cashier.get("/api/v1/pos/receipts").json
    assert len(receipts) == 2
    assert {r["occurred_at"][:19] for r in receipts} == {"2026-12-04T07:00:00"}


def test_a_refused_sale_is_reported_and_the_others_recorded(cashier_console, pos_register,
                                                            pos_shift, coffee):
    short = _sale(coffee["id"], "2", "1.00")  # cash short of the total
    answer = _sync(cashier_console, pos_register, [short, _sale(coffee["id"])])
    assert (answer.json["created"], answer.json["failed"]) == (1, 1)
    refused = answer.json["results"][0]
    assert refused["status"] == "failed" and refused["receipt_id"] is None
    assert refused["message"]


def test_invalid_queues_and_missing_tokens_change_nothing(cashier_console, pos_cashier,
                                                          pos_register, pos_shift, coffee):
    bad = _sync(cashier_console, pos_register, [{"lines": []}])
    assert bad.status_code == 422 and "receipts" in bad.json["errors"]
    forged = _sync(cashier_console, pos_register, [_sale(coffee["id"])], token="")
    assert forged.status_code == 403
    assert pos_cashier.get("/api/v1/pos/receipts").json == []


def test_without_an_open_shift_the_sales_stay_queued(cashier_console, pos_register, coffee):
    answer = _sync(cashier_console, pos_register, [_sale(coffee["id"])])
    assert answer.json["failed"] == 1
    assert "open shift" in answer.json["results"][0]["message"]


def test_guards(app, make_tenant, pos_register, console_as, coffee):
    path = f"/pos/registers/{pos_register['id']}/till/catalogue"
    assert ConsoleClient(app, make_tenant(modules=["pos"]).host).get(path).status_code == 303
    assert console_as(make_tenant(modules=["pos"]), "cashier").get(path).status_code == 404
    without_pos = console_as(make_tenant(modules=["catalog"]), "owner")
    assert without_pos.get(path).status_code == 403
