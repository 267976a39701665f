"""``tenantry tenants import`` (issue 17, item 3) through the real command line: a shop exported
and imported as a new tenant has the same rows, byte for byte but for the tenant id (and what
the import deliberately leaves out: API keys, password hashes), its ledger verifies, its owner
can sign in with the new password and nobody else can; a bundle that does not match its
manifest, an unknown owner or a taken slug is refused and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.tenant_import import NOT_IMPORTED
from core.testing.app import HostClient
from tests.core.commandline import app_env, tenantry
from tests.fixtures.commerce import sell
from tests.fixtures.products import make_product, receive_stock

NEW_PASSWORD = "imported-owner-pass-1"


@pytest.fixture
def bundle(database, tmp_path: Path, make_tenant):
    shop = make_tenant(modules=["pos", "stock", "cases"])
    admin, owner, cashier = (shop.as_role(r) for r in ("admin", "owner", "cashier"))
    product = make_product(admin, sale_price="2.50")
    receive_stock(admin, product["id"], "5")
    register = owner.post("/api/v1/pos/registers", json={"code": "R1", "name": "T"}).json
    shift = cashier.post(f"/api/v1/pos/registers/{register['id']}/shifts", json={}).json
    sell(cashier, register, [{"product_id": product["id"], "quantity": "2"}],
         [{"method": "cash", "amount": "10.00"}])
    cashier.post(f"/api/v1/pos/shifts/{shift['id']}/close", json={"counted_cash": "105.50"})
    owner.post("/api/v1/api-keys", json={"label": "sync", "role": "admin"})
    folder = tmp_path / "bundle"
    done = tenantry("tenants", "export", shop.slug, "--out", str(folder),
                    env=app_env(database, tmp_path))
    assert done.returncode == 0, done.stderr
    return shop, folder


def _rows(folder: Path, table: str) -> list[dict]:
    lines = (folder / f"{table}.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "tenant_id"} for line in lines]


def _import(database, tmp_path, folder, slug, email, *extra):
    return tenantry("tenants", "import", str(folder), "--slug", slug, "--owner-email", email,
                    "--owner-password", NEW_PASSWORD, *extra, env=app_env(database, tmp_path))


def test_export_import_round_trip(app, database, tmp_path: Path, bundle):
    shop, folder = bundle
    slug = f"{shop.slug}-copy"
    done = _import(database, tmp_path, folder, slug, shop.users["owner"])
    assert done.returncode == 0, done.stderr
    again = tmp_path / "again"
    assert tenantry("tenants", "export", slug, "--out", str(again),
                    env=app_env(database, tmp_path)).returncode == 0
    before = json.loads((folder / "manifest.json").read_text())["tables"]
    after = json.loads((again / "manifest.json").read_text())["tables"]
    for table in before:
        if table in NOT_IMPORTED or table == "audit_events":
            continue
        assert _rows(again, table) == _rows(folder, table), table
    # Credentials and webhook subscriptions do not travel.
    assert {table: after[table]["rows"] for table in NOT_IMPORTED} == dict.fromkeys(
        NOT_IMPORTED, 0)
    assert after["audit_events"]["rows"] == before["audit_events"]["rows"] + 1  # the import
    # The copy is a working tenant: its owner signs in, its ledger verifies.
    client = HostClient(app.test_client(), f"{slug}.tenantry.test")
    login = client.post("/api/v1/auth/login", json={"email": shop.users["owner"],
                                                     "password": NEW_PASSWORD})
    assert login.status_code == 200, login.json
    owner = client.with_token(login.json["access_token"])
    ledger = owner.get("/api/v1/tenant/ledger").json
    assert ledger["ok"] is True, ledger
    assert len(owner.get("/api/v1/pos/receipts").json) == 1
    cashier = client.post("/api/v1/auth/login", json={"email": shop.users["cashier"],
                                                       "password": "anything"})
    assert cashier.status_code == 401  # no password came with the bundle


def test_a_bad_bundle_or_owner_is_refused_and_writes_nothing(database, tmp_path: Path, bundle,
                                                             admin_connection):
    shop, folder = bundle
    unknown = _import(database, tmp_path, folder, "copy-a", "nobody@example.test")
    assert unknown.returncode == 1 and "no such owner in the bundle" in unknown.stderr
    taken = _import(database, tmp_path, folder, shop.slug, shop.users["owner"])
    assert taken.returncode == 1 and "already exists" in taken.stderr
    tampered = folder / "pos_receipts.jsonl"
    tampered.write_text(tampered.read_text().replace('"paid":"10.00"', '"paid":"99.00"'))
    changed = _import(database, tmp_path, folder, "copy-b", shop.users["owner"])
    assert changed.returncode == 1 and "pos_receipts: the file does not match" in changed.stderr
    (folder / "manifest.json").write_text('{"format": "other"}')
    other = _import(database, tmp_path, folder, "copy-c", shop.users["owner"])
    assert other.returncode == 1 and "unsupported bundle" in other.stderr
    assert admin_connection.execute("SELECT count(*) FROM tenants WHERE slug LIKE 'copy-%'"
                                    ).fetchone()[0] == 0
