"""``tenantry serve``: migrate, seed the demo tenant and run the development server."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.extensions import db


@click.command("serve")
@click.option("--host", default=None, help="Default: APP_HOST.")
@click.option("--port", default=None, type=int, help="Default: APP_PORT.")
@click.option("--no-demo", is_flag=True, help="Do not create the demo tenant.")
@with_appcontext
def serve_command(host, port, no_demo):
    """Migrate, seed (platform owner, demo tenant) and run the development server."""
    from core.role_check import verify_app_role
    from core.schema_migrations import migrate_all
    from core.seed import seed_demo

    app = current_app._get_current_object()
    migrate_all(echo=click.echo)
    verify_app_role(db.engine)
    host = host or app.config["APP_HOST"]
    port = port or app.config["APP_PORT"]
    if not no_demo:
        seed_demo(app, port, echo=click.echo)
    click.echo(f"Tenantry on http://{host}:{port} (platform) and "
               f"http://demo.{app.config['ROOT_DOMAIN']}:{port} (demo tenant); "
               "API docs at /api/v1/docs; the console at /platform/login (platform) and "
               "/login (tenants)")
    # run_simple, not app.run: Flask ignores app.run() inside a `flask` command.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)
