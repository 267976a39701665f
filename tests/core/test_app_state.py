"""The app's state is one typed object (core/app_state.py), not string keys in app.extensions.

- create_app fills every attribute that the request path and the commands read.
- No product code reads or writes a string key of ``app.extensions`` other than Flask's own
  extensions (``sqlalchemy``, ``migrate``) and the one key ``core/app_state.py`` owns, so a new
  string-keyed service locator fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.app_state import TenantryState, app_state
from core.auth.tokens import TokenSigner
from core.cache import TTLCache
from core.plugins import PluginRegistry
from core.tenancy import Tenancy

ROOT = Path(__file__).resolve().parents[2]
# Any subscript, .get, .setdefault, .pop or membership test on an app's extensions.
EXTENSION_ACCESS = re.compile(
    r"extensions\s*(\[|\.(get|setdefault|pop)\()\s*(?![\"'](sqlalchemy|migrate)[\"'])"
    r"|in\s+\w*\.?extensions\b")
OWNER = ROOT / "core" / "app_state.py"


def test_create_app_fills_the_state(app):
    state = app_state(app)
    assert isinstance(state, TenantryState)
    assert isinstance(state.registry, PluginRegistry)
    assert isinstance(state.signer, TokenSigner)
    assert isinstance(state.tenancy, Tenancy)
    assert isinstance(state.schema_cache, TTLCache)
    assert state.api is not None and state.role_check is not None
    assert state.request_limits == {"statement_timeout": str(app.config["STATEMENT_TIMEOUT_MS"]),
                                    "lock_timeout": str(app.config["LOCK_TIMEOUT_MS"])}
    assert state.guards and set(state.guards.values()) >= {"platform", "tenant", "catalog"}
    assert "reports" in state.plugin_objects  # the reports catalogue, built at start-up


def test_the_current_app_is_the_default(app):
    with app.app_context():
        assert app_state() is app_state(app)


def test_the_detector_sees_string_keyed_access():
    assert EXTENSION_ACCESS.search('current_app.extensions["tenantry_guards"]')
    assert EXTENSION_ACCESS.search("app.extensions.get('billing_metered')")
    assert EXTENSION_ACCESS.search('if "x" in current_app.extensions:')
    assert not EXTENSION_ACCESS.search('current_app.extensions["migrate"].migrate')
    assert not EXTENSION_ACCESS.search("from core.extensions import db")


def test_no_product_code_reads_app_extensions_by_string_key():
    offending = []
    for folder in ("core", "plugins", "migrations"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == OWNER or "__pycache__" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if EXTENSION_ACCESS.search(line):
                    offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offending, f"use core.app_state.app_state() instead: {offending}"
