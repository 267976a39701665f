"""Database connection set-up: DATABASE_URL, or the embedded PostgreSQL in development/tests.

The app never needs the database to start: a pod whose PostgreSQL is down boots, answers
liveness, and answers 503 (readiness and requests) until the database is back. In production
the role check runs at start-up when the database answers, so an unsafe role stops the server
before it serves anything (``core.role_check.RoleCheck`` keeps checking new connections otherwise).
"""

from __future__ import annotations

import logging

import click
import psycopg
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from core.app_state import app_state
from core.extensions import db
from core.pool_check import install_checkout_check
from core.pooler import install_pooler_detector
from core.rls import install_rls_listener
from core.role_check import install_role_check
from core.tenant_predicates import install_tenant_predicates

log = logging.getLogger("tenantry.database")


def _start_embedded(app: Flask) -> None:
    from core.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(app.config["INSTANCE_PATH"] / "postgres").start()
    app_state(app).embedded = server
    app.config["DATABASE_URL"] = server.app_url
    app.config["MIGRATION_DATABASE_URL"] = server.owner_url
    log.info("using the embedded PostgreSQL in %s", server.base_dir)


def engine_options(config) -> dict:
    """SQLAlchemy engine options from the settings (docs/operations.md, "Database connections").

    A bounded pool per worker (DB_POOL_SIZE + DB_MAX_OVERFLOW) whose waiters give up after
    DB_POOL_TIMEOUT seconds. No pre-ping: a connection that died with a server restart is
    replaced at checkout by ``core.pool_check``, without a round trip. Behind pgbouncer in
    transaction mode (DATABASE_POOLER=transaction) psycopg must never prepare statements: it
    prepares after 5 uses on one connection, and the next transaction may run on another
    server connection.
    """
    options = {
        "pool_pre_ping": False,
        "pool_size": config["DB_POOL_SIZE"],
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_timeout": config["DB_POOL_TIMEOUT"],
        "pool_recycle": 1800,
    }
    connect_args: dict = {}
    if config["DATABASE_POOLER"] == "transaction":
        connect_args["prepare_threshold"] = None
    # An unreachable host (packets dropped) must fail within the pool timeout too, not after the
    # kernel's TCP timeout of minutes; a URL that sets connect_timeout itself keeps its value.
    url = config.get("DATABASE_URL")
    if url and "connect_timeout" not in make_url(url).query:
        connect_args["connect_timeout"] = config["DB_POOL_TIMEOUT"]
    if connect_args:
        options["connect_args"] = connect_args
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
    install_tenant_predicates()  # tenant_id = :tenant on every ORM statement
    app_state(app).request_limits = {
        "statement_timeout": str(app.config["STATEMENT_TIMEOUT_MS"]),
        "lock_timeout": str(app.config["LOCK_TIMEOUT_MS"])}
    with app.app_context():
        app_state(app).role_check = install_role_check(db.engine)
        install_disconnect_detection(db.engine)
        install_checkout_check(db.engine)
    install_pooler_detector(app)  # warns about an undeclared transaction pooler
    check_database_when_serving(app)  # last: every connect listener is in place


def _is_protocol_confusion(exc: BaseException | None) -> bool:
    """psycopg lost track of the server's answers: no SQLSTATE, the connection is unusable.

    Seen through pgbouncer while PostgreSQL restarts: the first statement on a client
    connection whose server connection died raises ``InternalError: received 2 results from
    command 'BEGIN'``. SQLAlchemy does not take it for a disconnect, so the pool would hand
    the broken connection to the next request (a 500) instead of replacing it.
    """
    return isinstance(exc, psycopg.InternalError) and getattr(exc, "sqlstate", None) is None


def _mark_protocol_confusion_as_disconnect(context) -> None:
    if _is_protocol_confusion(context.original_exception):
        context.is_disconnect = True  # the pool invalidates it and opens another


def install_disconnect_detection(engine: Engine) -> None:
    """Treat driver protocol confusion as a lost connection (see ``_is_protocol_confusion``)."""
    if not event.contains(engine, "handle_error", _mark_protocol_confusion_as_disconnect):
        event.listen(engine, "handle_error", _mark_protocol_confusion_as_disconnect)


def check_database_at_start(app: Flask) -> None:
    """Run the role check now if the database answers (raises ``UnsafeDatabaseRole``).

    A database that does not answer is logged and left to the first request: the app boots,
    liveness answers, readiness and requests answer 503 until it is back.
    """
    if app_state(app).role_check.passed:
        return
    with app.app_context():
        try:
            with db.engine.connect():
                pass  # the engine's connect listener runs the role check
        except SQLAlchemyError as exc:
            log.warning("the database does not answer at start-up (%s); serving 503 until it "
                        "does", type(getattr(exc, "orig", None) or exc).__name__)
        finally:
            # Nothing pooled survives start-up: a server that forks workers after loading the
            # app (gunicorn --preload) must not share a connection between processes.
            db.engine.dispose()


def check_database_when_serving(app: Flask) -> None:
    """create_app's start-up check: in production, unless a command line runs the factory.

    Under ``gunicorn 'core:create_app()'`` an unsafe role stops the worker (and so the server)
    before it serves. CLI commands (``tenantry migrate-all`` and friends, ``flask run``) load
    the app inside a click context; they are checked when they first connect instead, so a
    migration is not refused for what the app role will be.
    """
    if app.config["TENANTRY_ENV"] != "production":
        return
    if click.get_current_context(silent=True) is not None:
        return
    check_database_at_start(app)
