"""The app's own state: one typed object per Flask app, with a named attribute for everything
Tenantry keeps per app (plugin registry, token signer, caches, guards, database helpers).

``create_app`` stores one ``TenantryState`` on the app; ``app_state()`` returns it (for the
current app, or the one given). Code reads ``app_state().signer`` rather than a string key in
``app.extensions``, so a reader finds every per-app object here and a typo fails loudly.
Flask's own extensions (``sqlalchemy``, ``migrate``) keep their keys. *Why per app and not a
global:* tests build many apps in one process, each with its own plugins and settings.

The attributes are filled in create_app's order (the engine's helpers first, then the registry,
the signer, the caches, the API and the guards); each names the module that sets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

    from core.auth.tokens import TokenSigner
    from core.cache import TTLCache
    from core.console import ConsoleState
    from core.embedded import EmbeddedPostgres
    from core.openapi import TenantryApi
    from core.plugins import PluginRegistry
    from core.pooler import PoolerDetector
    from core.role_check import RoleCheck
    from core.tenancy import Tenancy

# The one key of app.extensions that Tenantry uses.
_KEY = "tenantry"


@dataclass(eq=False)
class TenantryState:
    """Everything Tenantry keeps per app; see the module docstring."""

    # core.engine: the embedded server (development and tests without DATABASE_URL), the
    # request time limits the RLS listener sends at begin (core.rls), the role check.
    embedded: EmbeddedPostgres | None = None
    request_limits: dict[str, str] | None = None
    role_check: RoleCheck | None = None
    # core.pooler: the undeclared-pooler detector (None when DATABASE_POOLER=transaction).
    pooler: PoolerDetector | None = None
    # core.plugins.build_registry: the pluggy manager and the modules, in dependency order.
    registry: PluginRegistry = None  # type: ignore[assignment]
    # core.auth.tokens: signs and verifies JWTs.
    signer: TokenSigner = None  # type: ignore[assignment]
    # core.schema_migrations: the revision graph, parsed once per app.
    revision_script: ScriptDirectory | None = None
    # core.readiness: the cached answer to "is the schema at its heads?".
    schema_cache: TTLCache = None  # type: ignore[assignment]
    # core.tenancy: host -> tenant and module-toggle caches.
    tenancy: Tenancy = None  # type: ignore[assignment]
    # core.openapi: the flask-smorest Api.
    api: TenantryApi = None  # type: ignore[assignment]
    # core.routing: blueprint name -> guard (core.guards).
    guards: dict[str, str] = field(default_factory=dict)
    # core.console: the console's blueprints, navigation, tiles and settings panels.
    console: ConsoleState | None = None
    # core.webhooks.events: event type -> (module key, WebhookEvent), built on first use.
    webhook_events: dict[str, Any] | None = None
    # Objects a plugin keeps per app (e.g. the reports catalogue), under its module key.
    plugin_objects: dict[str, Any] = field(default_factory=dict)


def init_app_state(app: Flask) -> TenantryState:
    state = TenantryState()
    app.extensions[_KEY] = state
    return state


def app_state(app: Flask | None = None) -> TenantryState:
    """The Tenantry state of ``app`` (default: the current app)."""
    return (app or current_app).extensions[_KEY]


def find_app_state(app: Flask | None = None) -> TenantryState | None:
    """Like ``app_state``, or None for an app that is not Tenantry's (the RLS listener is
    process-wide and may see another Flask app's session, e.g. a benchmark baseline)."""
    return (app or current_app).extensions.get(_KEY)
