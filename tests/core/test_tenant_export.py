"""``tenantry tenants export`` (issue 17: offboarding, a module's data before a purge), through
the real command line: a JSON-lines file per table and a manifest whose row counts and SHA-256
match the files and the database; no password or key hash; no other tenant's rows; a module
filter; clear errors for an unknown tenant or module and a folder that is not empty."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.core.commandline import app_env, tenantry
from tests.fixtures.commerce import sell
from tests.fixtures.products import make_product


@pytest.fixture
def trading(pos_store, pos_owner, pos_cashier, pos_register, pos_shift, pos_products):
    sell(pos_cashier, pos_register, [{"product_id": pos_products[0]["id"], "quantity": "1"}],
         [{"method": "cash", "amount": "5.00"}])
    pos_owner.post("/api/v1/api-keys", json={"label": "sync", "role": "admin"})
    return pos_store


def test_the_bundle_matches_its_manifest_and_the_database(
        database, tmp_path: Path, trading, make_tenant, admin_connection):
    other = make_tenant(modules=["catalog"])
    theirs = make_product(other.as_role("admin"), name="Not theirs to export")
    out = tmp_path / "bundle"
    done = tenantry("tenants", "export", trading.slug, "--out", str(out),
                    env=app_env(database, tmp_path))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["format"], manifest["version"]) == ("tenantry-export", 1)
    assert manifest["tenant"]["slug"] == trading.slug
    tables = manifest["tables"]
    assert {"users", "products", "pos_receipts", "stock_moves", "ledger_entries",
            "audit_events"} <= set(tables)
    assert "console_sessions" not in tables and "idempotency_keys" not in tables
    for name, entry in tables.items():
        data = (out / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert data.count(b"\n") == entry["rows"], name
        in_db = admin_connection.execute(
            f"SELECT count(*) FROM {name} WHERE tenant_id = %s", (trading.id,)).fetchone()[0]
        # The audit log has one event more: the export's own, written after the snapshot.
        assert entry["rows"] == in_db - (name == "audit_events"), name
    assert tables["pos_receipts"]["rows"] == 1 and tables["api_keys"]["rows"] == 1
    everything = b"".join(p.read_bytes() for p in out.glob("*.jsonl"))
    assert b"password_hash" not in everything and b"key_hash" not in everything
    assert theirs["name"].encode() not in everything and str(other.id).encode() not in everything
    assert tables["pos_receipts"]["module"] == "pos" and tables["users"]["module"] == "core"
    [exported] = trading.as_role("owner").get("/api/v1/tenant/audit", query_string={
        "action": "tenant.exported"}).json
    assert exported["actor"] == "cli" and exported["changes"]["after"]["modules"] == "all"
    assert exported["changes"]["after"]["tables"]["pos_receipts"] == 1


def test_one_module_and_the_errors(database, tmp_path: Path, trading):
    env = app_env(database, tmp_path)
    out = tmp_path / "pos-only"
    only = tenantry("tenants", "export", trading.slug, "--out", str(out), "--module", "pos",
                    env=env)
    assert only.returncode == 0, only.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["modules"] == ["pos"]
    assert {entry["module"] for entry in manifest["tables"].values()} == {"pos"}
    not_empty = tenantry("tenants", "export", trading.slug, "--out", str(out), env=env)
    assert not_empty.returncode == 1 and "is not empty" in not_empty.stderr
    unknown = tenantry("tenants", "export", "no-such-shop", "--out", str(tmp_path / "x"),
                       env=env)
    assert unknown.returncode == 1 and "no tenant 'no-such-shop'" in unknown.stderr
    module = tenantry("tenants", "export", trading.slug, "--out", str(tmp_path / "y"),
                      "--module", "nope", env=env)
    assert module.returncode == 1 and "unknown module(s): nope" in module.stderr
