"""Request glue between core's ``tenantry_request_authenticated`` and the billing services.

Before the view: a metered action of a tenant over its free tier answers 402 (nothing has been
written, so nothing changes). After the view: the call is counted, only if it succeeded (status
below 400), in a short transaction of its own (see ``count_in_own_transaction``). Counting at
the end, rather than before the view, keeps the counter rows' locks for one upsert instead of
the whole request.
"""

from __future__ import annotations

import uuid

from flask import after_this_request, current_app, request
from sqlalchemy import text

from core.extensions import db
from core.tenancy import module_state
from plugins.billing import services

MODULE_KEY = "billing"
_METERED = "billing_metered_actions"
# The tenant for RLS and asynchronous commit, both transaction-local, in one round trip.
_SCOPE = text("SELECT set_config('app.tenant_id', :tenant_id, true), "
              "set_config('synchronous_commit', 'off', true)")


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
        if response.status_code < 400:
            count_in_own_transaction(tenant_id, label)
        return response


def count_in_own_transaction(tenant_id: uuid.UUID, label: str) -> None:
    """Add the call to the counters in a short transaction of its own, committed without
    waiting for the WAL flush.

    Own transaction: the counter rows stay locked for one upsert, not for the request, and the
    request's own commit (which may carry business data) keeps full durability. Asynchronous
    commit: a crash may forget the last few hundred milliseconds of counts, which a soft cap
    can afford, and a read-only GET no longer waits for a disk flush because it was counted.
    """
    with db.engine.connect() as connection:
        connection.execute(_SCOPE, {"tenant_id": str(tenant_id)})
        services.record_call(connection, tenant_id, label)
        connection.commit()
