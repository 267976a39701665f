"""The ``users`` module: a tenant owner manages the tenant's users; every user changes their
own password. No tables of its own: it works on core's ``users`` table. Its console page is
``/users`` (plugins/users/console.py)."""

from core.sdk import Module, hookimpl


@hookimpl
def tenantry_module():
    return Module(key="users", name="Users", version="1.0.0",
                  requires_core=">=1.0,<2",
                  description="Tenant users: owners create users, set roles, deactivate them "
                              "and reset passwords; every user changes their own password.")


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.users.routes import blp  # imported here: no import-time work

    return [blp]


@hookimpl
def tenantry_migration_folder():
    return None  # core's migrations own the users table


@hookimpl
def tenantry_console_pages(app):
    from plugins.users.console import blp  # imported here: no import-time work

    return [blp]
