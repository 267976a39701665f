"""Database connection set-up: DATABASE_URL, or the embedded PostgreSQL in development/tests."""

from __future__ import annotations

import logging

from flask import Flask

from core.db import install_rls_listener
from core.extensions import db

log = logging.getLogger("tenantry.database")


def _start_embedded(app: Flask) -> None:
    from core.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(app.config["INSTANCE_PATH"] / "postgres").start()
    app.extensions["tenantry_embedded"] = server
    app.config["DATABASE_URL"] = server.app_url
    app.config["MIGRATION_DATABASE_URL"] = server.owner_url
    log.info("using the embedded PostgreSQL in %s", server.base_dir)


def engine_options(config) -> dict:
    """SQLAlchemy engine options from the settings (docs/operations.md, "Database connections").

    A bounded pool per worker (DB_POOL_SIZE + DB_MAX_OVERFLOW) whose waiters give up after
    DB_POOL_TIMEOUT seconds, pre-ping so a connection that died with a server restart is
    replaced instead of failing a request. Behind pgbouncer in transaction mode
    (DATABASE_POOLER=transaction) psycopg must never prepare statements: it prepares after 5
    uses on one connection, and the next transaction may run on another server connection.
    """
    options = {
        "pool_pre_ping": True,
        "pool_size": config["DB_POOL_SIZE"],
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_timeout": config["DB_POOL_TIMEOUT"],
        "pool_recycle": 1800,
    }
    if config["DATABASE_POOLER"] == "transaction":
        options["connect_args"] = {"prepare_threshold": None}
    return options


def connect_database(app: Flask) -> None:
    if not app.config.get("DATABASE_URL"):
        _start_embedded(app)
    if not app.config.get("MIGRATION_DATABASE_URL"):
        app.config["MIGRATION_DATABASE_URL"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    # Tests may pass their own SQLALCHEMY_ENGINE_OPTIONS; the settings fill what they omit.
    options = engine_options(app.config)
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    install_rls_listener()
