"""Request glue between core's ``tenantry_request_authenticated`` (and
``tenantry_rate_limit_plan``) and the billing services.

Before the view: a metered action of a tenant over its free tier answers 402 (nothing has been
written, so nothing changes). After the view: the call is counted, only if it succeeded (status
below 400), by one statement at the very end of the request's transaction, run by core's final
commit (``core.pipeline.before_request_commit``). Counting at the end, rather than before the view,
keeps the counter rows' locks for the commit instead of the whole request; a read-only
request's commit does not wait for the disk because it was counted (see the billing_count_call
migration).

A count that fails (the database went away between the view's commit and the count) never
turns the answer into an error: core keeps the view's answer when its work was committed and
logs the lost count; when nothing was committed yet the request answers 503 and nothing of it
is kept, count included.
"""

from __future__ import annotations

import uuid

from flask import current_app, request

from core.sdk import app_state, before_request_commit, is_console_page, module_state
from plugins.billing import services

MODULE_KEY = "billing"


def metered_actions() -> frozenset[tuple[str, str]]:
    """Every plugin's declared metered actions, collected once per app."""
    objects = app_state().plugin_objects
    actions = objects.get(MODULE_KEY)
    if actions is None:
        hook = app_state().registry.hook
        actions = services.parse_metered(hook.tenantry_billing_metered_endpoints())
        objects[MODULE_KEY] = actions
    return actions


def on_authenticated_call(tenant_id: uuid.UUID, endpoint: str, method: str) -> None:
    # The platform may switch billing off for a tenant: no metering, no cap.
    if not module_state(tenant_id, MODULE_KEY).enabled or request.url_rule is None:
        return
    metered = (method.upper(), endpoint) in metered_actions()
    if metered:
        services.check_free_tier(tenant_id, current_app.config["FREE_TIER_LIMIT"])
    elif is_console_page():
        return  # browsing the console is not API usage; a metered action counts either way
    # The URL rule, not the path: "/cases/<uuid:case_id>" is one counter, not one per case.
    label = f"{method.upper()} {request.url_rule.rule}"

    def count_call(response) -> None:
        # Core calls this for answers below 400 and commits right after, so the counter rows
        # stay locked for the commit only, and a count exists exactly when the request's work
        # was committed.
        services.record_call(tenant_id, label)

    before_request_commit(count_call)


def rate_limit_plan(tenant_id: uuid.UUID) -> str | None:
    """The plan core's request quotas follow; None when billing is off for the tenant."""
    if not module_state(tenant_id, MODULE_KEY).enabled:
        return None
    return services.get_plan(tenant_id)
