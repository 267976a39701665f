"""Request glue between core's ``tenantry_request_authenticated`` and the billing services.

Before the view: a metered action of a tenant over its free tier answers 402 (nothing has been
written, so nothing changes). After the view: the call is counted, only if it succeeded (status
below 400), by one statement at the very end of the request's transaction. Counting at the
end, rather than before the view, keeps the counter rows' locks for the commit instead of the
whole request; a read-only request's commit does not wait for the disk because it was counted
(see the billing_count_call migration).
"""

from __future__ import annotations

import uuid

from flask import after_this_request, current_app, request

from core.tenancy import module_state
from plugins.billing import services

MODULE_KEY = "billing"
_METERED = "billing_metered_actions"


def metered_actions() -> frozenset[tuple[str, str]]:
    """Every plugin's declared metered actions, collected once per app."""
    actions = current_app.extensions.get(_METERED)
    if actions is None:
        hook = current_app.extensions["tenantry"].hook
        actions = services.parse_metered(hook.tenantry_billing_metered_endpoints())
        current_app.extensions[_METERED] = actions
    return actions


def on_authenticated_call(tenant_id: uuid.UUID, endpoint: str, method: str) -> None:
    # The platform may switch billing off for a tenant: no metering, no cap.
    if not module_state(tenant_id, MODULE_KEY).enabled or request.url_rule is None:
        return
    if (method.upper(), endpoint) in metered_actions():
        services.check_free_tier(tenant_id, current_app.config["FREE_TIER_LIMIT"])
    # The URL rule, not the path: "/cases/<uuid:case_id>" is one counter, not one per case.
    label = f"{method.upper()} {request.url_rule.rule}"

    @after_this_request
    def count_call(response):
        # Core commits the request's transaction right after this (status < 400), so the
        # counter rows stay locked for the commit only, and a count exists exactly when the
        # request's work was committed.
        if response.status_code < 400:
            services.record_call(tenant_id, label)
        return response
