"""A plugin states the SDK versions it works with (``Module.requires_core``); one built for
another SDK is refused at start-up with a message naming both versions, never loaded half."""

from __future__ import annotations

import types

import pytest

from core.plugins import SDK_VERSION, Module, PluginError, build_registry, hookimpl


def plugin_requiring(requires_core: str | None):
    @hookimpl
    def tenantry_module():
        return Module(key="loyalty", name="Loyalty", version="2.3.0",
                      requires_core=requires_core)

    return types.SimpleNamespace(tenantry_module=tenantry_module)


@pytest.mark.parametrize("requires_core", [None, ">=1.0,<2", f"=={SDK_VERSION}", "~=1.0"])
def test_a_compatible_plugin_loads(requires_core):
    registry = build_registry(builtins=(), extra=[("loyalty", plugin_requiring(requires_core))])
    assert list(registry.modules) == ["loyalty"]


def test_a_plugin_for_another_sdk_is_refused_naming_both_versions():
    with pytest.raises(PluginError) as refused:
        build_registry(builtins=(), extra=[("loyalty", plugin_requiring(">=2,<3"))])
    message = str(refused.value)
    assert "'loyalty'" in message and ">=2,<3" in message and SDK_VERSION in message


def test_a_malformed_range_is_refused_clearly():
    with pytest.raises(PluginError, match="not a version range"):
        build_registry(builtins=(), extra=[("loyalty", plugin_requiring("one or two"))])


def test_every_built_in_plugin_states_its_range():
    registry = build_registry()
    assert all(module.requires_core for module in registry.modules.values())
