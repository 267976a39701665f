"""Disabling modules keeps their data (issue 17, item 1): a tenant with data in every module it
can switch, exported, then every module switched off and on again, then exported again: every
table holds the same rows, byte for byte (row counts and SHA-256 of the bundle's files), except
the ones that record the switching itself (the toggles, the audit log, the usage meter), which
only grow."""

from __future__ import annotations

import json
from pathlib import Path

from tests.core.commandline import app_env, tenantry
from tests.fixtures.commerce import sell
from tests.fixtures.products import make_product, receive_stock

SWITCHABLE = ["catalog", "stock", "sales", "pos", "purchasing", "users", "reports", "cases"]
# The toggles and the audit log record the switching; billing's usage meter counts the very
# requests that did it.
RECORDS_THE_SWITCHING = {"tenant_modules", "audit_events", "billing_usage_hourly",
                         "billing_usage_totals"}


def _export(database, tmp_path: Path, slug: str, name: str) -> dict:
    out = tmp_path / name
    done = tenantry("tenants", "export", slug, "--out", str(out),
                    env=app_env(database, tmp_path))
    assert done.returncode == 0, done.stderr
    return json.loads((out / "manifest.json").read_text())["tables"]


def test_off_and_on_again_loses_no_row(database, tmp_path: Path, make_tenant):
    shop = make_tenant(modules=SWITCHABLE)
    admin, owner, cashier = (shop.as_role(r) for r in ("admin", "owner", "cashier"))
    product = make_product(admin, sale_price="2.50")
    receive_stock(admin, product["id"], "8")
    register = owner.post("/api/v1/pos/registers", json={"code": "R1", "name": "T"}).json
    cashier.post(f"/api/v1/pos/registers/{register['id']}/shifts", json={})
    sell(cashier, register, [{"product_id": product["id"], "quantity": "1"}],
         [{"method": "cash", "amount": "5.00"}])
    assert admin.post("/api/v1/cases", json={"title": "a case"}).status_code == 201
    before = _export(database, tmp_path, shop.slug, "before")
    assert before["pos_receipts"]["rows"] == 1 and before["cases"]["rows"] == 1

    off = owner.patch("/api/v1/tenant/settings", json={"modules": {
        key: {"enabled": False} for key in SWITCHABLE}})
    assert off.status_code == 200, off.json
    assert owner.get("/api/v1/pos/registers").status_code == 403  # invisible while off
    on = owner.patch("/api/v1/tenant/settings", json={"modules": {
        key: {"enabled": True} for key in SWITCHABLE}})
    assert on.status_code == 200, on.json
    after = _export(database, tmp_path, shop.slug, "after")

    assert set(after) == set(before)
    changed = {name for name in before if before[name]["sha256"] != after[name]["sha256"]}
    assert changed <= RECORDS_THE_SWITCHING, changed
    assert all(after[name]["rows"] >= before[name]["rows"] for name in RECORDS_THE_SWITCHING
               if name in before)
    assert sum(e["rows"] for n, e in before.items() if n not in RECORDS_THE_SWITCHING) > 20
    assert [r["id"] for r in owner.get("/api/v1/pos/registers").json] == [register["id"]]
