"""The fiscal outbox (issue 16, item 4): an outside provider hears of a document only after its
transaction commits; an outage loses no sale and signs none twice once the provider is back;
failures back off; the till's next document retries its register at once; ``tenantry pos
retry-fiscal --loop`` is the worker; a tenant's ``fiscal_mode`` is off, test or live."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.core.commandline import TENANTRY, app_env
from tests.fixtures.commerce import sell

CASH = [{"method": "cash", "amount": "5.00"}]


def _lines(products):
    return [{"product_id": products[0]["id"], "quantity": "1"}]


def _records(admin_connection, tenant_id):
    return admin_connection.execute(
        "SELECT status, attempts, fiscal_number, next_attempt_at, mode FROM pos_fiscal_records "
        "WHERE tenant_id = %s AND document_type = 'receipt' ORDER BY created_at",
        (tenant_id,)).fetchall()


def _signed(admin_connection, tenant_id) -> list[tuple]:
    return admin_connection.execute(
        "SELECT document_id, count(*) FROM pos_mock_fiscal_documents WHERE tenant_id = %s "
        "AND kind = 'receipt' GROUP BY document_id", (tenant_id,)).fetchall()


def test_an_outage_loses_no_sale_and_signs_none_twice(
        app, pos_store, pos_owner, pos_cashier, pos_register, pos_shift, pos_products,
        admin_connection):
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "unavailable"})
    sold = [sell(pos_cashier, pos_register, _lines(pos_products), CASH) for _ in range(10)]
    assert all(receipt["fiscal"]["status"] == "pending" for receipt in sold)
    records = _records(admin_connection, pos_store.id)
    assert [r[0] for r in records] == ["pending"] * 10
    # The first was tried after each sale's commit (its register woken each time); the later
    # ones wait behind it, untried: the device numbers documents in order.
    assert records[0][1] == 10 and {r[1] for r in records[1:]} == {0}
    runner = app.test_cli_runner()
    # --tenant: other tests' tenants in this database may have documents pending on purpose.
    retry = ["pos", "retry-fiscal", "--tenant", pos_store.slug]
    assert runner.invoke(args=retry).exit_code == 1  # still down
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "mock"})
    worker = runner.invoke(args=retry)
    assert worker.exit_code == 0 and "10 registered, 0 still pending" in worker.output
    again = runner.invoke(args=retry)  # a second worker pass: nothing to do
    assert again.exit_code == 0 and "registered" not in again.output
    assert sorted(count for _, count in _signed(admin_connection, pos_store.id)) == [1] * 10
    numbers = [pos_cashier.get(f"/api/v1/pos/receipts/{r['id']}").json["fiscal"]["fiscal_number"]
               for r in sold]
    assert numbers == sorted(numbers) and len(set(numbers)) == 10  # in order, each once


def test_failures_back_off_and_a_new_document_retries_its_register(
        pos_store, pos_owner, pos_cashier, pos_register, pos_shift, pos_products,
        admin_connection):
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "unavailable"})
    sell(pos_cashier, pos_register, _lines(pos_products), CASH)
    [(status, attempts, _, next_attempt_at, _)] = _records(admin_connection, pos_store.id)
    assert (status, attempts) == ("pending", 1)
    wait = next_attempt_at - datetime.now(UTC)
    assert timedelta(seconds=2) < wait <= timedelta(seconds=5)
    sell(pos_cashier, pos_register, _lines(pos_products), CASH)  # the register is woken
    first, second = _records(admin_connection, pos_store.id)
    assert (first[1], second[1]) == (2, 0)
    assert timedelta(seconds=7) < first[3] - datetime.now(UTC) <= timedelta(seconds=10)
    # Back to a working device: the register's next sale sends the queue first, in order.
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "mock"})
    third = sell(pos_cashier, pos_register, _lines(pos_products), CASH)
    assert [r[0] for r in _records(admin_connection, pos_store.id)] == ["registered"] * 3
    assert third["fiscal"]["status"] == "registered"


def test_fiscal_mode_off_test_live(pos_store, pos_owner, pos_cashier, pos_register, pos_shift,
                                   pos_products, admin_connection):
    assert pos_owner.get("/api/v1/pos/settings").json["fiscal_mode"] == "live"
    for bad in ({"cash_register_provider": None, "fiscal_mode": "maybe"},
                {"cash_register_provider": None, "fiscal_mode": None}):
        assert pos_owner.put("/api/v1/pos/settings", json=bad).status_code == 422
    test = pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": None,
                                                        "fiscal_mode": "test"})
    assert test.status_code == 200 and test.json["fiscal_mode"] == "test"
    tested = sell(pos_cashier, pos_register, _lines(pos_products), CASH)
    assert tested["fiscal"]["mode"] == "test"
    assert tested["fiscal"]["fiscal_number"].startswith("TEST-R1-")
    # A PUT without the mode leaves it as it is.
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "mock"})
    assert pos_owner.get("/api/v1/pos/settings").json["fiscal_mode"] == "test"
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": None,
                                                 "fiscal_mode": "off"})
    untracked = sell(pos_cashier, pos_register, _lines(pos_products), CASH)
    assert untracked["fiscal"] is None
    assert len(_records(admin_connection, pos_store.id)) == 1
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": None,
                                                 "fiscal_mode": "live"})
    live = sell(pos_cashier, pos_register, _lines(pos_products), CASH)
    assert (live["fiscal"]["mode"], live["fiscal"]["fiscal_number"][:3]) == ("live", "R1-")


def test_only_owners_set_the_fiscal_mode(pos_store):
    for role in ("admin", "cashier"):
        assert pos_store.as_role(role).put("/api/v1/pos/settings", json={
            "cash_register_provider": None, "fiscal_mode": "off"}).status_code == 403


def test_the_worker_loop_registers_what_is_pending_and_stops_on_sigterm(
        database, tmp_path: Path, pos_store, pos_owner, pos_cashier, pos_register, pos_shift,
        pos_products, admin_connection):
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "unavailable"})
    for _ in range(3):
        sell(pos_cashier, pos_register, _lines(pos_products), CASH)
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "mock"})
    # Due now: the worker respects the backoff, and this test does not wait minutes for it.
    admin_connection.execute("UPDATE pos_fiscal_records SET next_attempt_at = now() "
                             "WHERE tenant_id = %s", (pos_store.id,))
    worker = subprocess.Popen(
        [TENANTRY, "pos", "retry-fiscal", "--loop", "--interval", "0.2", "--tenant",
         pos_store.slug], env=app_env(database, tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if [r[0] for r in _records(admin_connection, pos_store.id)] == ["registered"] * 3:
                break
            time.sleep(0.2)
        assert [r[0] for r in _records(admin_connection, pos_store.id)] == ["registered"] * 3
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "worker started" in out and "3 registered" in out and "worker stopped" in out


def test_a_failure_after_the_commit_keeps_the_sale_and_its_answer(
        monkeypatch, caplog, pos_store, pos_owner, pos_cashier, pos_register, pos_shift,
        pos_products, admin_connection):
    from plugins.pos import fiscal

    def broken(*_args, **_kwargs):
        raise RuntimeError("the worker's database connection dropped")

    monkeypatch.setattr(fiscal, "deliver", broken)
    pos_owner.put("/api/v1/pos/settings", json={"cash_register_provider": "unavailable"})
    receipt = sell(pos_cashier, pos_register, _lines(pos_products), CASH)  # still 201
    assert pos_cashier.get(f"/api/v1/pos/receipts/{receipt['id']}").status_code == 200
    assert [r[:2] for r in _records(admin_connection, pos_store.id)] == [("pending", 0)]
    assert "after-commit work failed" in caplog.text
