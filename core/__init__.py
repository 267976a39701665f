"""Tenantry core: the Flask app factory.

``create_app`` reads like a table of contents; each step lives in its own module. Nothing runs
at import time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from core.app_state import init_app_state
    from core.auth.tokens import TokenSigner
    from core.cli import register_commands
    from core.config import load_settings
    from core.console import init_console
    from core.engine import connect_database
    from core.errors import register_error_handlers
    from core.json_limits import init_json_limits
    from core.logs import configure_logging
    from core.metrics import init_metrics
    from core.openapi import init_api
    from core.pipeline import init_request_pipeline
    from core.plugins import build_registry
    from core.readiness import init_readiness
    from core.routing import register_blueprints
    from core.schema_migrations import init_schema
    from core.tenancy import init_tenancy

    settings = load_settings(config)
    app = Flask("tenantry", instance_path=str(settings["INSTANCE_PATH"].resolve()),
                instance_relative_config=True)
    app.config.update(settings)
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"],
                      own_handler=not app.config.get("TESTING"))

    state = init_app_state(app)  # the typed per-app state (core/app_state.py)
    connect_database(app)  # DATABASE_URL, or the embedded PostgreSQL; RLS session listener
    state.registry = build_registry(
        disabled=app.config["DISABLED_PLUGINS"], extra=app.config.get("EXTRA_PLUGINS", ()))
    state.signer = TokenSigner(
        secret=app.config["JWT_SECRET"], issuer=app.config["JWT_ISSUER"],
        ttl_seconds=app.config["JWT_TTL_SECONDS"],
        previous_secret=app.config.get("JWT_PREVIOUS_SECRET"))
    init_schema(app)  # Alembic: core + plugin branches
    init_readiness(app)  # the cached answer to 'is the schema at its heads?'
    init_tenancy(app)  # host resolution caches
    api = init_api(app)  # flask-smorest, OpenAPI at /api/v1/openapi.json
    register_blueprints(app, api)  # core routes + every plugin's, with their guards
    init_console(app)  # console pages (core's and every plugin's), guarded the same way
    init_metrics(app)  # /metrics; request counters whose hooks wrap the pipeline's
    init_request_pipeline(app)  # request id, tenant, identity, transaction, access log
    init_json_limits(app)  # JSON depth/number limits: 422 before the view (after auth)
    register_error_handlers(app)
    register_commands(app)
    if app.config["TRUSTED_PROXY_COUNT"]:
        # The client address the login limits count by (core/auth/throttle.py): the last
        # TRUSTED_PROXY_COUNT hops of X-Forwarded-For are our proxies. The Host header is
        # never taken from X-Forwarded-Host: it names the tenant.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)
    return app
