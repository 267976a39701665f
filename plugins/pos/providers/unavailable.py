"""The ``unavailable`` cash-register provider: a device that cannot be reached.

Every call raises ``ProviderUnavailable``, as a real driver does when its device is off or the
fiscal service is down. POS then keeps each document with fiscal status ``pending``; switching
the tenant to a working provider and running ``tenantry pos retry-fiscal`` registers them.
"""

from __future__ import annotations

from plugins.pos.hookspecs import ProviderUnavailable


class UnavailableProvider:
    name = "unavailable"

    def _refuse(self, **_kwargs):
        raise ProviderUnavailable("the cash register device is unreachable")

    open_shift = close_shift = register_receipt = register_refund = _refuse
