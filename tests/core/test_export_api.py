"""``GET /api/v1/tenant/export`` (issue 17, items 1-2 through the API): the owner downloads the
same bundle ``tenantry tenants export`` writes — the tar's files equal the command's, byte for
byte, for a module or everything, and every file matches the manifest's SHA-256; no secret is
in it; the export is audited; other roles, no credentials and unknown modules are refused; one
tenant's download holds none of another's rows."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.core.commandline import app_env, tenantry
from tests.fixtures.products import make_product

EXPORT = "/api/v1/tenant/export"


@pytest.fixture
def shop(make_tenant):
    shop = make_tenant(modules=["catalog", "users"])
    make_product(shop.as_role("admin"), sale_price="3.10")
    return shop


def _files(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(response.get_data()), mode="r:") as tar:
        members = tar.getmembers()
        folder = {member.name.split("/", 1)[0] for member in members}
        assert len(folder) == 1  # one top folder, named after the tenant and the time
        return {member.name.split("/", 1)[1]: tar.extractfile(member).read()
                for member in members}


def test_the_download_is_the_bundle_the_command_writes(database, tmp_path: Path, shop):
    owner = shop.as_role("owner")
    response = owner.get(EXPORT, query_string={"module": "catalog"})
    assert shop.slug in response.headers["Content-Disposition"]
    files = _files(response)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["modules"]) == {"catalog"} and manifest["tenant"]["slug"] == shop.slug
    for table, entry in manifest["tables"].items():
        assert hashlib.sha256(files[entry["file"]]).hexdigest() == entry["sha256"], table
    assert manifest["tables"]["products"]["rows"] == 1
    out = tmp_path / "cli"
    done = tenantry("tenants", "export", shop.slug, "--out", str(out), "--module", "catalog",
                    env=app_env(database, tmp_path))
    assert done.returncode == 0, done.stderr
    for name, content in files.items():
        if name != "manifest.json":
            assert (out / name).read_bytes() == content, name


def test_everything_without_secrets_and_audited(shop, make_tenant):
    other = make_tenant(modules=["catalog"])
    make_product(other.as_role("admin"), sale_price="9.99")
    owner = shop.as_role("owner")
    files = _files(owner.get(EXPORT))
    assert {"users.jsonl", "products.jsonl", "audit_events.jsonl"} <= set(files)
    users = [json.loads(line) for line in files["users.jsonl"].splitlines()]
    assert users and all("password_hash" not in user for user in users)
    everything = b"".join(files.values())
    assert str(other.id).encode() not in everything and b"9.99" not in everything
    actions = [e["action"] for e in owner.get("/api/v1/tenant/audit",
                                              query_string={"action": "tenant."}).json]
    assert actions == ["tenant.exported"]


def test_refused_callers_and_unknown_modules(shop):
    assert shop.anonymous().get(EXPORT).status_code == 401
    for role in ("admin", "cashier"):
        assert shop.as_role(role).get(EXPORT).status_code == 403
    assert shop.as_api_key("admin").get(EXPORT).status_code == 403
    unknown = shop.as_role("owner").get(EXPORT, query_string={"module": "nope"})
    assert unknown.status_code == 422 and "unknown module(s): nope" in json.dumps(unknown.json)
