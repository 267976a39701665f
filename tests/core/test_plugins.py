"""Plugin manager: entry-point plugins, dependency order, cycles, missing requirements,
DISABLED_PLUGINS, and a third-party plugin's blueprint, branch and guard working end to end."""

from __future__ import annotations

import types

import pytest
from sqlalchemy import text

from core.app_state import app_state
from core.extensions import db
from core.plugins import Module, PluginError, build_registry, hookimpl, topological_order
from core.tenant_lifecycle import create_tenant
from core.testing.app import PLATFORM_HOST, HostClient
from core.testing.tenants import PASSWORD


def fake_plugin(key: str, requires: tuple[str, ...] = (), calls: list | None = None):
    """A plugin object as pluggy sees one: a namespace with hookimpls."""

    @hookimpl
    def tenantry_module():
        return Module(key=key, name=key.title(), version="1.0", requires=requires)

    @hookimpl
    def tenantry_tenant_created(tenant):
        if calls is not None:
            calls.append(key)

    return types.SimpleNamespace(tenantry_module=tenantry_module,
                                 tenantry_tenant_created=tenantry_tenant_created)


def test_modules_are_ordered_requirements_first_and_hooks_follow_that_order():
    calls: list[str] = []
    registry = build_registry(builtins=(), extra=[
        ("c", fake_plugin("c", ("b",), calls)), ("a", fake_plugin("a", (), calls)),
        ("b", fake_plugin("b", ("a",), calls))])
    assert list(registry.modules) == ["a", "b", "c"]
    registry.hook.tenantry_tenant_created(tenant=None)
    assert calls == ["a", "b", "c"]
    assert registry.closure("c") == ["a", "b", "c"]
    assert registry.dependents("a") == ["b"]


def test_a_cycle_is_refused_naming_both_ends():
    modules = {"x": Module("x", "X", "1", requires=("y",)), "y": Module("y", "Y", "1",
                                                                       requires=("x",))}
    with pytest.raises(PluginError) as excinfo:
        topological_order(modules)
    message = str(excinfo.value)
    assert "cycle" in message and "'x'" in message and "'y'" in message


def test_a_missing_requirement_is_refused_naming_both_ends():
    with pytest.raises(PluginError) as excinfo:
        build_registry(builtins=(), extra=[("pos", fake_plugin("pos", ("sales",)))])
    assert "'pos' requires 'sales'" in str(excinfo.value)


def test_disabled_plugins_blocks_a_plugin_and_its_dependents_fail_clearly():
    registry = build_registry(builtins=(), disabled=["b"], extra=[("a", fake_plugin("a"))])
    assert list(registry.modules) == ["a"]
    with pytest.raises(PluginError, match="'c' requires 'b'"):
        build_registry(builtins=(), disabled=["b"], extra=[
            ("b", fake_plugin("b")), ("c", fake_plugin("c", ("b",)))])


def test_a_plugin_must_describe_its_module():
    with pytest.raises(PluginError, match="does not implement tenantry_module"):
        build_registry(builtins=(), extra=[("bad", types.SimpleNamespace())])


def test_two_plugins_cannot_provide_one_module():
    with pytest.raises(PluginError, match="provided by two plugins"):
        build_registry(builtins=(), extra=[("a1", fake_plugin("a")), ("a2", fake_plugin("a"))])


def test_entry_point_plugin_is_loaded_migrated_and_guarded(notes_app):
    registry = app_state(notes_app).registry
    assert "notes" in registry.modules
    assert registry.plugins["notes"].__name__ == "tenantry_notes"
    with notes_app.app_context():
        applied = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
        assert "nt0a00000002" in set(applied)
        with_notes = create_tenant(slug="withnotes", name="With", owner_email="o@w.test",
                                   owner_password=PASSWORD, modules={"notes": {}})
        create_tenant(slug="without", name="Without", owner_email="o@wo.test",
                      owner_password=PASSWORD)
        db.session.commit()
        assert with_notes.slug == "withnotes"

    client = notes_app.test_client()

    def login(slug, email):
        host = HostClient(client, f"{slug}.tenantry.test")
        token = host.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert token.status_code == 200, token.json
        return host.with_token(token.json["access_token"])

    owner = login("withnotes", "o@w.test")
    created = owner.post("/api/v1/notes", json={"title": "first"})
    assert created.status_code == 201, created.json
    listed = owner.get("/api/v1/notes")
    assert [n["title"] for n in listed.json] == ["first"]

    disabled = login("without", "o@wo.test").get("/api/v1/notes")
    assert disabled.status_code == 403
    assert disabled.json["message"] == "module 'notes' is not enabled for this tenant"

    spec = HostClient(client, PLATFORM_HOST).get("/api/v1/openapi.json").json
    assert "/api/v1/notes" in spec["paths"]


def test_entry_point_plugin_can_be_blocked_by_disabled_plugins(thirdparty_on_path):
    registry = build_registry(builtins=(), disabled=["notes"])
    assert "notes" not in registry.modules
    registry = build_registry(builtins=())
    assert "notes" in registry.modules
