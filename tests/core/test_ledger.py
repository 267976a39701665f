"""Hash-chained records (issue 16, item 2): receipts (per register), refunds, shift closings and
stock moves are linked by the database at commit, with no fork and no gap under 20 concurrent
writers; ``GET /api/v1/tenant/ledger`` and ``tenantry ledger verify`` walk the chains; a row
tampered with as the owner role, behind the append-only trigger's back on purpose, is found."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from core.testing.app import HostClient
from tests.core.commandline import app_env, tenantry
from tests.fixtures.products import make_product

CHAINS = ["pos_receipts", "pos_refunds", "pos_shift_closings", "stock_moves"]


def _sell(client, register, product, quantity="1"):
    response = client.post(f"/api/v1/pos/registers/{register['id']}/receipts", json={
        "lines": [{"product_id": product["id"], "quantity": quantity}],
        "payments": [{"method": "cash", "amount": "50.00"}]})
    assert response.status_code == 201, response.json
    return response.json


@contextmanager
def _as_owner(database):
    """The schema owner's connection: what someone with the migration role could do."""
    url = make_url(database.owner_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        yield conn


def _tamper(database, statement, params, table):
    """Change a posted row behind the append-only trigger, as the owner (on purpose)."""
    with _as_owner(database) as owner, owner.transaction():
        owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        owner.execute(statement, params)
        owner.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


def _chain(report, name):
    return next(chain for chain in report["chains"] if chain["chain"] == name)


@pytest.fixture
def trading_day(pos_store, pos_owner, pos_cashier, pos_register, pos_shift, pos_products):
    """Two receipts, a refund and a closed shift; stock moves for all of them."""
    first = _sell(pos_cashier, pos_register, pos_products[0])
    _sell(pos_cashier, pos_register, pos_products[1])
    refund = pos_cashier.post(f"/api/v1/pos/receipts/{first['id']}/refunds",
                              json={"method": "cash"})
    assert refund.status_code == 201, refund.json
    closed = pos_cashier.post(f"/api/v1/pos/shifts/{pos_shift['id']}/close",
                              json={"counted_cash": "0"})
    assert closed.status_code == 200, closed.json
    return {"receipt": first, "refund": refund.json}


def test_every_posted_document_is_chained_and_the_chains_verify(pos_owner, trading_day):
    report = pos_owner.get("/api/v1/tenant/ledger")
    assert report.status_code == 200, report.json
    assert report.json["ok"] is True
    assert sorted(chain["chain"] for chain in report.json["chains"]) == CHAINS
    entries = {chain["chain"]: sum(scope["entries"] for scope in chain["scopes"])
               for chain in report.json["chains"]}
    # stock: 2 receipts of 50 for the fixture's products, 2 sales, 1 refund.
    assert entries == {"pos_receipts": 2, "pos_refunds": 1, "pos_shift_closings": 1,
                       "stock_moves": 5}
    [receipts] = _chain(report.json, "pos_receipts")["scopes"]
    assert len(receipts["head_hash"]) == 64 and receipts["broken_at"] is None
    only = pos_owner.get("/api/v1/tenant/ledger", query_string={"chain": "pos_refunds"}).json
    assert [chain["chain"] for chain in only["chains"]] == ["pos_refunds"]


def test_a_tampered_receipt_is_found(database, pos_store, pos_owner, trading_day):
    receipt = trading_day["receipt"]
    _tamper(database, "UPDATE pos_receipts SET total = total - 1 WHERE id = %s",
            (receipt["id"],), "pos_receipts")
    report = pos_owner.get("/api/v1/tenant/ledger").json
    assert report["ok"] is False
    [scope] = _chain(report, "pos_receipts")["scopes"]
    assert (scope["broken_at"], scope["document_id"]) == (1, receipt["id"])
    assert scope["reason"] == "the document changed after it was chained"
    assert _chain(report, "stock_moves")["ok"] is True  # other chains still hold


def test_a_tampered_line_or_a_removed_entry_is_found(database, pos_store, pos_owner,
                                                     trading_day):
    _tamper(database, "UPDATE pos_refund_lines SET quantity = 2 WHERE refund_id = %s",
            (trading_day["refund"]["id"],), "pos_refund_lines")
    assert _chain(pos_owner.get("/api/v1/tenant/ledger").json, "pos_refunds")["scopes"][0][
        "reason"] == "the document changed after it was chained"
    _tamper(database, "DELETE FROM ledger_entries WHERE tenant_id = %s AND chain = "
            "'stock_moves' AND seq = 2", (pos_store.id,), "ledger_entries")
    [scope] = _chain(pos_owner.get("/api/v1/tenant/ledger").json, "stock_moves")["scopes"]
    assert (scope["broken_at"], scope["reason"]) == (3, "entry 2 is missing")


def test_a_document_without_an_entry_is_found(database, pos_store, pos_owner, trading_day):
    with _as_owner(database) as owner, owner.transaction():
        owner.execute("ALTER TABLE stock_moves DISABLE TRIGGER stock_moves_ledger")
        owner.execute("INSERT INTO stock_moves (tenant_id, id, product_id, location_id, "
                      "quantity, unit_cost, reason, actor) SELECT tenant_id, gen_random_uuid(), "
                      "product_id, location_id, 1, 0, 'adjustment', 'intruder' "
                      "FROM stock_moves WHERE tenant_id = %s LIMIT 1", (pos_store.id,))
        owner.execute("ALTER TABLE stock_moves ENABLE TRIGGER stock_moves_ledger")
    chain = _chain(pos_owner.get("/api/v1/tenant/ledger").json, "stock_moves")
    assert (chain["ok"], chain["unchained"]) == (False, 1)


def test_twenty_concurrent_writers_neither_fork_nor_gap(app, pos_store, admin_connection):
    admin = pos_store.as_role("admin")
    products = [make_product(admin) for _ in range(4)]
    token = pos_store.token("admin")
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def receive(n):
        client = HostClient(app.test_client(), pos_store.host, token=token)
        barrier.wait()
        statuses.append(client.post("/api/v1/stock/moves", json={"moves": [{
            "product_id": products[n % 4]["id"], "quantity": "1", "reason": "receipt",
            "unit_cost": "1.00"}]}).status_code)

    threads = [threading.Thread(target=receive, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 20
    rows = admin_connection.execute(
        "SELECT seq, prev_hash, entry_hash FROM ledger_entries WHERE tenant_id = %s AND "
        "chain = 'stock_moves' ORDER BY seq", (pos_store.id,)).fetchall()
    assert [row[0] for row in rows] == list(range(1, 21))
    assert all(rows[n][1] == rows[n - 1][2] for n in range(1, 20)) and rows[0][1] is None
    report = pos_store.as_role("owner").get("/api/v1/tenant/ledger").json
    assert _chain(report, "stock_moves")["ok"] is True


def test_a_refused_sale_leaves_no_entry_and_no_gap(pos_store, pos_owner, pos_cashier,
                                                   pos_register, pos_shift, pos_products):
    _sell(pos_cashier, pos_register, pos_products[0])
    refused = pos_cashier.post(f"/api/v1/pos/registers/{pos_register['id']}/receipts", json={
        "lines": [{"product_id": pos_products[0]["id"], "quantity": "500"}],
        "payments": [{"method": "cash", "amount": "5000.00"}]})
    assert refused.status_code == 409
    _sell(pos_cashier, pos_register, pos_products[0])
    [scope] = _chain(pos_owner.get("/api/v1/tenant/ledger").json, "pos_receipts")["scopes"]
    assert (scope["entries"], scope["broken_at"]) == (2, None)


def test_a_closed_shift_cannot_change(database, pos_store, trading_day, admin_connection):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="closed"):
        admin_connection.execute("UPDATE pos_shifts SET note = 'later' WHERE tenant_id = %s",
                                 (pos_store.id,))


def test_the_cli_walks_every_tenant_and_exits_1_on_a_break(database, tmp_path: Path, pos_store,
                                                            trading_day):
    env = app_env(database, tmp_path)
    clean = tenantry("ledger", "verify", "--tenant", pos_store.slug, env=env)
    assert clean.returncode == 0, clean.stderr
    assert f"tenant {pos_store.slug}: pos_receipts [" in clean.stdout
    assert "4 chain(s) walked, 0 broken" in clean.stdout
    _tamper(database, "UPDATE pos_receipts SET paid = paid + 1 WHERE id = %s",
            (trading_day["receipt"]["id"],), "pos_receipts")
    broken = tenantry("ledger", "verify", "--tenant", pos_store.slug, "--chain",
                      "pos_receipts", env=env)
    assert broken.returncode == 1
    assert "BROKEN at entry 1" in broken.stdout and "1 broken" in broken.stdout
    unknown = tenantry("ledger", "verify", "--chain", "nope", env=env)
    assert unknown.returncode != 0 and "no chain 'nope'" in unknown.stderr


def test_ledger_access(pos_store, make_tenant):
    assert pos_store.anonymous().get("/api/v1/tenant/ledger").status_code == 401
    for role in ("admin", "cashier"):
        assert pos_store.as_role(role).get("/api/v1/tenant/ledger").status_code == 403
    owner = pos_store.as_role("owner")
    bad = owner.get("/api/v1/tenant/ledger", query_string={"chain": "cases"})
    assert bad.status_code == 422 and "chain" in bad.json["errors"]["query"]
    # A tenant without POS or stock has no chain of theirs, and sees nobody else's.
    clinic = make_tenant(modules=["cases"]).as_role("owner").get("/api/v1/tenant/ledger")
    assert clinic.status_code == 200 and clinic.json == {"ok": True, "chains": []}
