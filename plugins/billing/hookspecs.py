"""Billing's extension point: the actions other modules want metered against the free tier.

Registered from ``tenantry_add_hookspecs``. Implementations live in other plugins and must be
marked ``@hookimpl(optionalhook=True)``: the billing plugin may be absent (DISABLED_PLUGINS).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("tenantry")


@hookspec
def tenantry_billing_metered_endpoints():
    """Return the endpoints whose calls are *metered create actions*.

    Called once per app, at the first request that needs the list. Return an iterable of
    strings ``"<METHOD> <endpoint>"`` (e.g. ``"POST cases.Cases"``), where ``endpoint`` is the
    Flask endpoint name, ``<blueprint registration name>.<view class name>``; a bare endpoint
    name means ``POST``. A blueprint registered twice (root and ``/api/v1`` paths) is listed
    under each registration name.

    While a tenant on the ``free`` plan has used up FREE_TIER_LIMIT calls, a metered action
    answers ``402 Payment Required`` before its view runs, and changes nothing. Every other
    call keeps working (and counting).
    """
