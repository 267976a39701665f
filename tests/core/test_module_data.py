"""What modules declare about their data (core/module_data.py, the ``tenantry_module_data``
hook): core's exclusions and POS's soft reference into stock are in the merged rules; a
declaration naming another module's table, a missing column or a wrong type is refused with
the plugin's name; and ``tenantry modules purge`` of stock waits until no POS register names
one of its locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import create_app
from core.module_data import ModuleData, data_rules
from core.plugins import Module, PluginError, hookimpl
from core.testing.app import app_config
from tests.core.commandline import app_env, tenantry


def test_core_exclusions_and_plugin_references_are_merged(app):
    with app.app_context():
        rules = data_rules(app)
    assert {"console_sessions", "idempotency_keys"} <= rules.excluded_tables
    assert rules.excluded_columns["users"] == {"password_hash"}
    assert ("pos", "pos_registers", "location_id") in rules.references["stock"]
    assert rules.owners["pos_registers"] == "pos" and rules.owners["users"] == "core"
    assert "webhook_endpoints" in rules.tables_of("core")


class _Declaring:
    def __init__(self, answer):
        self.answer = answer

    @hookimpl
    def tenantry_module(self):
        return Module(key="dataprobe", name="Data probe", version="0.1.0")

    @hookimpl
    def tenantry_module_data(self):
        return self.answer


@pytest.mark.parametrize(("answer", "message"), [
    (ModuleData(excluded_tables=("users",)), "names table 'users'"),
    (ModuleData(references={"stock": ("pos_registers.location_id",)}),
     "names table 'pos_registers'"),
    ({"excluded_tables": ()}, "must return core.sdk.ModuleData"),
])
def test_a_declaration_about_another_module_s_data_is_refused(database, answer, message):
    probe = create_app(app_config(database, EXTRA_PLUGINS=[("dataprobe", _Declaring(answer))]))
    with probe.app_context(), pytest.raises(PluginError, match=message) as refused:
        data_rules(probe)
    assert "plugin 'dataprobe'" in str(refused.value)


def test_a_soft_reference_blocks_purging_the_module_it_points_into(database, tmp_path: Path,
                                                                  make_tenant):
    shop = make_tenant(modules=["pos", "stock"])
    owner = shop.as_role("owner")
    location = owner.post("/api/v1/stock/locations", json={"code": "BACK", "name": "Back"})
    assert location.status_code == 201, location.json
    register = owner.post("/api/v1/pos/registers", json={
        "code": "R1", "name": "Till", "location_id": location.json["id"]}).json
    assert owner.patch("/api/v1/tenant/settings", json={"modules": {
        "stock": {"enabled": False}}}).status_code == 200
    env = app_env(database, tmp_path)
    blocked = tenantry("modules", "purge", shop.slug, "stock", "--dry-run", env=env)
    assert blocked.returncode == 1
    assert ("module 'pos' still refers to 'stock' data of this tenant "
            "(pos_registers.location_id: 1 row(s))") in blocked.stderr
    assert owner.patch(f"/api/v1/pos/registers/{register['id']}",
                       json={"location_id": None}).status_code == 200
    allowed = tenantry("modules", "purge", shop.slug, "stock", "--dry-run", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert "stock_locations" in allowed.stdout
