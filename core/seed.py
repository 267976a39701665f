"""Development seed for ``flask serve``: the ``demo`` tenant with every installed module.

Credentials are printed once, when they are created; afterwards they live in
``instance/dev-secrets.json`` (development mode) or in the operator's own variables.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from core.extensions import db
from core.models import Tenant
from core.modules import installed_versions, registry
from core.tenant_lifecycle import create_tenant

DEMO_SLUG = "demo"


def seed_demo(app: Flask, port: int, echo: Callable[[str], None] = print) -> None:
    if app.config.get("DEV_SECRETS_GENERATED"):
        echo(f"platform owner: {app.config['FIRST_OWNER_EMAIL']} / "
             f"{app.config['FIRST_OWNER_PASSWORD']} (generated; kept in "
             f"{app.config['INSTANCE_PATH']}/dev-secrets.json)")
    if db.session.execute(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)).first():
        return
    installed = installed_versions()
    email = f"owner@{DEMO_SLUG}.{app.config['ROOT_DOMAIN']}"
    create_tenant(slug=DEMO_SLUG, name="Demo", owner_email=email,
                  owner_password=app.config["FIRST_OWNER_PASSWORD"],
                  modules={key: {} for key in registry().modules if key in installed})
    db.session.commit()
    echo(f"demo tenant: http://{DEMO_SLUG}.{app.config['ROOT_DOMAIN']}:{port} owner {email} "
         "with the platform owner's password")
