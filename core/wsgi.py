"""WSGI entry point for production servers: ``gunicorn 'core.wsgi:build_app()'``.

The same app as ``gunicorn 'core:create_app()'``, with the role check run at start-up whatever
TENANTRY_ENV says: a role that could bypass row level security raises, so the worker (and
gunicorn) never boots. A database that does not answer yet does not stop it: the app serves
liveness and answers 503 until the database is back (core.engine).
"""

from __future__ import annotations

from flask import Flask

from core import create_app


def build_app() -> Flask:
    from core.engine import check_database_at_start

    app = create_app()
    check_database_at_start(app)
    return app
