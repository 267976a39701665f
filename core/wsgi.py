"""WSGI entry point for production servers: ``gunicorn 'core.wsgi:build_app()'``.

Builds the app and refuses to serve (raises, so the worker never boots) when DATABASE_URL's
role could bypass row level security.
"""

from __future__ import annotations

from flask import Flask

from core import create_app


def build_app() -> Flask:
    from core.db import verify_app_role
    from core.extensions import db

    app = create_app()
    with app.app_context():
        verify_app_role(db.engine)
    return app
