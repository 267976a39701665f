"""Core hook specifications of the ``tenantry`` pluggy project.

Every hook takes keyword arguments only. Plugins implement them with ``core.plugins.hookimpl``;
core calls them in the topological order of module requirements (a module's hooks run after
those of the modules it requires). A plugin that offers its own extension point declares its
hookspecs in ``plugins/<key>/hookspecs.py`` and registers them from ``tenantry_add_hookspecs``.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("tenantry")


# ---------------------------------------------------------------------------------------------
# Description
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def tenantry_module():
    """Describe the one module this plugin provides.

    Called once when the plugin manager is built. Return a ``core.plugins.Module``.
    """


@hookspec
def tenantry_add_hookspecs(pluginmanager):
    """Register this plugin's own hookspecs (an extension point for other plugins).

    Called before any other hook, so that implementations of those specs are validated.
    """


@hookspec
def tenantry_settings():
    """Return the settings this module reads: a list of ``core.config.Setting`` (name, parser,
    default, required, secret, help), parsed with ``core.config`` parsers or your own (raise
    ``ValueError`` with a message saying what is accepted).

    Called when settings are loaded, before the app and the plugin manager exist (no app
    context, no database), for every installed plugin not blocked by ``DISABLED_PLUGINS``.
    Values come from ``instance/config.py``, the environment and ``create_app``'s config like
    core's, land in ``app.config``, and a bad one is named in the same one ``ConfigError`` as
    every other problem. Names are unique across core and plugins; give each a row in the
    README's Configuration table.
    """


# ---------------------------------------------------------------------------------------------
# Wiring into the app
# ---------------------------------------------------------------------------------------------


@hookspec
def tenantry_register_blueprints(app, api):
    """Return a list of flask-smorest Blueprints for this module.

    Called once by ``create_app``. Core registers them and guards each so that a tenant without
    the module gets 403 before any view runs. Return ``[]`` (or nothing) if the module has none.
    """


@hookspec(firstresult=True)
def tenantry_migration_folder():
    """Return the folder of this module's Alembic branch (branch label = module key), or None.

    Called when the migration environment is configured (``tenantry migrate-all``, ``tenantry db``,
    readiness checks).
    """


@hookspec
def tenantry_register_commands(cli):
    """Add click commands or groups to the ``flask`` command line. Called once by create_app."""


# ---------------------------------------------------------------------------------------------
# Lifecycle events. Called inside the request's (or command's) transaction, scoped to the
# tenant with ``tenant_context``; implementations flush but never commit. Raising aborts the
# whole action.
# ---------------------------------------------------------------------------------------------


@hookspec
def tenantry_tenant_created(tenant):
    """A tenant was created (before its modules are enabled)."""


@hookspec
def tenantry_module_enabled(tenant_id, module_key, features):
    """``module_key`` was just enabled for ``tenant_id`` (called for every module's plugin,
    so a module may react to another's enablement; most check ``module_key``)."""


@hookspec
def tenantry_module_disabled(tenant_id, module_key):
    """``module_key`` was just disabled for ``tenant_id``. Its data is kept."""


# ---------------------------------------------------------------------------------------------
# Request-level events
# ---------------------------------------------------------------------------------------------


@hookspec
def tenantry_request_authenticated(tenant_id, identity, endpoint, method):
    """A tenant-scoped API call was authenticated (called before the view, in its transaction).

    Used by billing to meter usage. ``identity`` is a ``core.auth.identity.Identity``.
    """


@hookspec(firstresult=True)
def tenantry_rate_limit_plan(tenant_id):
    """The tenant's plan for request quotas (core/rate_limits.py): ``"free"`` selects
    ``RATE_LIMITS_FREE``; anything else, or no answer, ``RATE_LIMITS``. Called in the request's
    transaction, tenant bound, and cached per process under the tenant's ``state_version``: an
    implementation whose answer changes bumps ``tenants.state_version`` in the same transaction
    (billing: triggers on ``billing_accounts``, migration bi0a00000003). Billing answers it.
    """


# ---------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------


@hookspec
def tenantry_metrics_collectors(app):
    """prometheus-client collectors whose values are read when ``/metrics`` is scraped.

    Called on every scrape, in the scrape's request (no tenant bound; its one database
    transaction). Return an iterable of objects with ``collect()`` yielding metric families;
    give them a ``describe()`` too, so that registering one does not run it. For values that
    only the database knows across tenants (a backlog), read through one narrow SECURITY
    DEFINER function that returns aggregates, never a tenant's rows or ids. See core.metrics.
    """


# ---------------------------------------------------------------------------------------------
# Console (core/console, docs/console.md)
# ---------------------------------------------------------------------------------------------


@hookspec
def tenantry_console_pages(app):
    """Return the module's console pages: a list of ``core.sdk.ConsoleBlueprint``.

    Called once per app, after the API blueprints. Each blueprint is guarded by the module's
    toggle like its API (403 page when the tenant has not enabled it; the navigation leaves it
    out), carries its navigation entries, dashboard tiles and settings panels, and ships its
    templates in the plugin package (``templates/<module key>/…``). ``platform=True`` makes a
    platform console page instead.
    """


# ---------------------------------------------------------------------------------------------
# Leaving a module or a tenant (core/module_data.py, docs/operations.md)
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def tenantry_module_data():
    """Describe this module's data for tenant export, import and module purge: return a
    ``core.sdk.ModuleData`` naming tables and columns never exported (secrets, state that
    means nothing elsewhere) and the soft references of its tables into another module's
    rows (``{"stock": ("pos_registers.location_id",)}``: purging stock is refused while one
    holds a value). Without an answer, every table and column of the module is exported and
    only ``Module.requires`` guards a purge.

    Called by the operator commands (``tenantry tenants export|import``, ``tenantry modules
    purge``), once per run, with an app context and no tenant.
    """


# ---------------------------------------------------------------------------------------------
# Webhooks (core/webhooks, docs/webhooks.md)
# ---------------------------------------------------------------------------------------------


@hookspec
def tenantry_webhook_events():
    """Return the webhook event types this module sends: a list of ``core.sdk.WebhookEvent``
    whose ``type`` starts with the module key and a dot (``pos.receipt.created``).

    Called once per app, the first time the catalogue is needed. Tenants subscribe endpoints
    to these types; the module queues one with ``core.sdk.emit_webhook_event`` in the
    transaction of the change it reports (an undeclared type raises ValueError).
    """


# ---------------------------------------------------------------------------------------------
# Reports (an SDK-level extension point: core/report_definitions.py)
# ---------------------------------------------------------------------------------------------


@hookspec
def tenantry_reports_definitions():
    """Return a list of ``core.sdk.ReportDefinition`` this module contributes (called once per
    app when the reports module builds its catalogue). A report is offered only to tenants
    that enabled its ``module``, and only if the reports module is installed and enabled."""
