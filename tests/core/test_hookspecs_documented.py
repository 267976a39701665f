"""Every hookspec, core's and each plugin's extension point, is documented by name in
docs/plugin-authoring.md (the plugin author's one page); core calls the hooks that describe a
plugin through pluggy, so their firstresult and a plugin's wrappers take effect."""

from __future__ import annotations

import dataclasses
import importlib
import re
import types
from pathlib import Path

import pytest

from core import hookspecs as core_hookspecs
from core.plugins import PROJECT, Module, build_registry, hookimpl

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugin-authoring.md"
SPEC_MODULES = ["core.hookspecs", *(f"plugins.{path.parent.name}.hookspecs" for path in
                                    sorted((ROOT / "plugins").glob("*/hookspecs.py")))]


def _hookspecs(module_name: str) -> list[str]:
    """Names of the functions the module marks with the ``tenantry`` hookspec marker."""
    module = importlib.import_module(module_name)
    return sorted(name for name, value in vars(module).items()
                  if callable(value) and hasattr(value, f"{PROJECT}_spec"))


ALL_SPECS = sorted({name for module in SPEC_MODULES for name in _hookspecs(module)})


def _undocumented(names: list[str], text: str) -> list[str]:
    return [name for name in names if not re.search(rf"`{re.escape(name)}\b", text)]


def test_the_spec_modules_are_found():
    """The scan can fail: it sees core's specs and at least the five built-in extension
    points (stock, sales, POS, billing); the reports hook is core's (an SDK-level point)."""
    assert "tenantry_module" in _hookspecs("core.hookspecs")
    assert len(SPEC_MODULES) >= 5
    assert "tenantry_reports_definitions" in _hookspecs("core.hookspecs")
    assert {"tenantry_stock_post_moves", "tenantry_billing_metered_endpoints"} <= set(ALL_SPECS)


@pytest.mark.parametrize("name", ALL_SPECS)
def test_every_hookspec_is_named_in_the_plugin_guide(name):
    assert not _undocumented([name], GUIDE.read_text()), (
        f"docs/plugin-authoring.md does not document the hookspec {name} (section 'Hooks')")


def test_a_missing_hookspec_is_reported():
    text = GUIDE.read_text().replace("`tenantry_stock_on_hand(", "`stock_on_hand(")
    assert _undocumented(ALL_SPECS, text) == ["tenantry_stock_on_hand"]


def test_firstresult_specs_answer_one_value_through_pluggy():
    """``tenantry_module``, ``tenantry_migration_folder``, ``tenantry_rate_limit_plan`` and
    ``tenantry_module_data`` declare firstresult; core calls them through the manager, so the
    answer is one value, not a list."""
    firstresult = {name for name in _hookspecs("core.hookspecs")
                   if getattr(core_hookspecs, name).tenantry_spec.get("firstresult")}
    assert firstresult == {"tenantry_module", "tenantry_migration_folder",
                           "tenantry_rate_limit_plan", "tenantry_module_data"}
    registry = build_registry()
    folders = registry.migration_folders()
    assert folders and all(isinstance(folder, Path) for folder in folders.values())
    assert set(folders) <= set(registry.modules)
    for key, answer in registry.call_each("tenantry_module"):
        assert answer == registry.modules[key]
    assert dict(registry.call_each("tenantry_module_data"))["pos"].references == {
        "stock": ("pos_registers.location_id",)}


def test_a_plugins_wrappers_apply_to_the_hooks_that_describe_it():
    """Core once called these two implementations directly: a wrapper was skipped (and the
    generator it returned taken for the answer)."""

    @hookimpl
    def tenantry_module():
        return Module(key="wrapped", name="Wrapped", version="1.0")

    @hookimpl(wrapper=True, specname="tenantry_module")
    def describe_more():
        module = yield
        return dataclasses.replace(module, description="said by the wrapper")

    @hookimpl
    def tenantry_migration_folder():
        return "/srv/branch"

    @hookimpl(wrapper=True, specname="tenantry_migration_folder")
    def move_folder():
        folder = yield
        return folder + "/moved"

    plugin = types.SimpleNamespace(tenantry_module=tenantry_module, describe_more=describe_more,
                                   tenantry_migration_folder=tenantry_migration_folder,
                                   move_folder=move_folder)
    registry = build_registry(builtins=(), extra=[("wrapped", plugin)])
    assert registry.modules["wrapped"].description == "said by the wrapper"
    assert registry.migration_folders() == {"wrapped": Path("/srv/branch/moved")}
