"""tenantry-notes: per-tenant notes; a third-party plugin exercising the whole contract."""

from core.sdk import Module, hookimpl, plugin_folder


@hookimpl
def tenantry_module():
    return Module(key="notes", name="Notes", version="0.1.0",
                  requires_core=">=1.0,<2",
                  features={"max_length": 2000}, description="Free-text notes")


@hookimpl
def tenantry_register_blueprints(app, api):
    from tenantry_notes.routes import blp

    return [blp]


@hookimpl
def tenantry_console_pages(app):
    from tenantry_notes.console import blp

    return [blp]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)
