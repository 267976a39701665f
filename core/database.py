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


def connect_database(app: Flask) -> None:
    if not app.config.get("DATABASE_URL"):
        _start_embedded(app)
    if not app.config.get("MIGRATION_DATABASE_URL"):
        app.config["MIGRATION_DATABASE_URL"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 10,
        "pool_recycle": 1800,
    })
    db.init_app(app)
    install_rls_listener()
