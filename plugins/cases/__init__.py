"""Cases: ClinCore's clinical cases per tenant (title, description, open/closed status, patient
reference, who opened it), at ClinCore's root paths and under ``/api/v1``.

Hookimpls only. Opening a case is metered by billing (free tier: 402 when exhausted).
"""

from core.sdk import Module, WebhookEvent, hookimpl, plugin_folder

# Registration names of the one blueprint: ClinCore's /cases and Tenantry's /api/v1/cases.
ROOT_NAME, V1_NAME = "cases", "cases_v1"


@hookimpl
def tenantry_module():
    return Module(key="cases", name="Clinical cases", version="1.0.0",
                  requires_core=">=1.3,<2",
                  description="ClinCore's clinical cases: open, update and close cases with a "
                              "patient reference")


@hookimpl
def tenantry_register_blueprints(app, api):
    from plugins.cases.routes import blp

    return [(blp, {"name": ROOT_NAME}), (blp, {"url_prefix": "/api/v1", "name": V1_NAME})]


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)


@hookimpl
def tenantry_console_pages(app):
    from plugins.cases.console import blp

    return [blp]


@hookimpl
def tenantry_webhook_events():
    return [WebhookEvent("cases.case.created", "A case was opened. data: id, title, status, "
                                               "patient_ref, created_by, created_at"),
            WebhookEvent("cases.case.closed", "A case was closed. data: id, title, status, "
                                              "patient_ref, closed_at")]


@hookimpl(optionalhook=True)
def tenantry_billing_metered_endpoints():
    # The console's "Open case" is the same action as POST /cases: metered alike.
    return [*(f"POST {name}.Cases" for name in (ROOT_NAME, V1_NAME)), "POST cases_console.create"]
