"""Reports: a catalogue of reports that the other modules contribute through the
``tenantry_reports_definitions`` hook (an SDK-level extension point: core/hookspecs.py and
``core.sdk.ReportDefinition``, docs/reports.md),
listed and run under ``/api/v1/reports``.

Hookimpls only. No tables and no hard requirements: a report belongs to its own module and is
offered only to tenants that have that module enabled.
"""

from core.sdk import Module, app_state, hookimpl


@hookimpl
def tenantry_module():
    return Module(key="reports", name="Reports", version="1.0.0",
                  requires_core=">=1.0,<2",
                  description="Reports of the enabled modules (stock valuation, low stock, "
                              "purchases, sales...) as JSON or CSV")


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.reports.catalogue import build_catalogue
    from plugins.reports.routes import MODULE_KEY, blp

    # Once per app: every plugin is registered by now, and a broken or duplicate definition
    # stops start-up with a message naming the plugins.
    state = app_state(app)
    state.plugin_objects[MODULE_KEY] = build_catalogue(state.registry, api.ma_plugin.converter)
    return [blp]


@hookimpl
def tenantry_migration_folder():
    return None  # no tables of its own


@hookimpl
def tenantry_console_pages(app):
    from plugins.reports.console import blp

    return [blp]
