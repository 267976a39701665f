"""Plugins declare their own settings (``tenantry_settings``) and core's loader checks them like
its own: defaults, parsing, one ``ConfigError`` naming every problem, core's and the plugins',
DISABLED_PLUGINS taking a plugin's settings with it, and no name declared twice."""

from __future__ import annotations

import re
import types

import pytest

from core.config import ConfigError, Setting, all_settings, integer_at_least, load_settings
from core.plugins import Module, PluginError, hookimpl


def settings_plugin(key: str, *settings: Setting):
    @hookimpl
    def tenantry_module():
        return Module(key=key, name=key.title(), version="1.0")

    @hookimpl
    def tenantry_settings():
        return list(settings)

    return (key, types.SimpleNamespace(tenantry_module=tenantry_module,
                                       tenantry_settings=tenantry_settings))


WIDGETS = settings_plugin("widgets", Setting("WIDGET_LIMIT", integer_at_least(3), default=10))


def _load(tmp_path, environ=None, **overrides):
    return load_settings({"EXTRA_PLUGINS": [WIDGETS], **overrides},
                         environ={"TENANTRY_ENV": "development", **(environ or {})},
                         instance_path=tmp_path)


def test_the_built_in_plugins_declare_their_settings_not_core():
    from core.config import SETTINGS

    core_names = {setting.name for setting in SETTINGS}
    assert not {"FREE_TIER_LIMIT", "CASH_REGISTER_PROVIDER"} & core_names
    declared = {setting.name: setting for setting in all_settings()}
    assert declared["FREE_TIER_LIMIT"].default == 1000
    assert declared["CASH_REGISTER_PROVIDER"].default == "mock"


def test_a_plugin_setting_gets_its_default_and_parses_its_sources(tmp_path):
    assert _load(tmp_path)["WIDGET_LIMIT"] == 10
    assert _load(tmp_path, environ={"WIDGET_LIMIT": "4"})["WIDGET_LIMIT"] == 4
    (tmp_path / "config.py").write_text("WIDGET_LIMIT = 5\n")
    assert _load(tmp_path)["WIDGET_LIMIT"] == 5
    assert _load(tmp_path, environ={"WIDGET_LIMIT": "6"}, WIDGET_LIMIT=7)["WIDGET_LIMIT"] == 7


def test_one_error_names_core_and_plugin_problems(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        _load(tmp_path, environ={"WIDGET_LIMIT": "2", "FREE_TIER_LIMIT": "-1",
                                 "LOG_LEVEL": "LOUD"})
    message = str(excinfo.value)
    assert "WIDGET_LIMIT: must be >= 3" in message
    assert "FREE_TIER_LIMIT: must be >= 0" in message
    assert "LOG_LEVEL:" in message


def test_a_disabled_plugin_takes_its_settings_with_it(tmp_path):
    settings = _load(tmp_path, environ={"WIDGET_LIMIT": "2", "FREE_TIER_LIMIT": "-1"},
                     DISABLED_PLUGINS="widgets,billing")
    assert "WIDGET_LIMIT" not in settings and "FREE_TIER_LIMIT" not in settings
    assert settings["CASH_REGISTER_PROVIDER"] == "mock"


def test_a_setting_declared_twice_stops_start_up_naming_both(tmp_path):
    clash = settings_plugin("clash", Setting("LOG_LEVEL", str, default="INFO"))
    with pytest.raises(PluginError, match="LOG_LEVEL is declared twice: by 'core' and by "
                                          "plugin 'clash'"):
        load_settings({"EXTRA_PLUGINS": [clash]}, environ={"TENANTRY_ENV": "development"},
                      instance_path=tmp_path)


def test_a_plugin_must_return_setting_objects():
    bad = ("bad", types.SimpleNamespace(tenantry_settings=hookimpl(lambda: ["WIDGETS=1"])))
    expected = re.escape("plugin 'bad': tenantry_settings() must return core.config.Setting")
    with pytest.raises(PluginError, match=expected):
        all_settings(extra=[bad])
