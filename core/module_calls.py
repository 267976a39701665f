"""Effects in another module: call its hook only when that module is enabled for the tenant.

The one way a plugin asks a module it does not own to do something for a tenant (a POS receipt
or a fulfilled sales order posting stock, a purchase receipt adding it): the module that offers
the service declares a hookspec (``plugins/stock/hookspecs.py``), the caller names the module
and the hook, and ``call_if_enabled`` calls the hook through the app's plugin manager, so
``firstresult``, ordering and wrappers work, or skips it when the module is not installed in
this deployment (``DISABLED_PLUGINS``) or not enabled for the tenant. The caller decides what
a skipped call means (nothing to do, or a 409), from ``ModuleCall.called``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from core.app_state import app_state
from core.tenancy import module_state


@dataclass(frozen=True)
class ModuleCall:
    """What ``call_if_enabled`` did: ``called`` False means the module was off (not installed,
    or not enabled for the tenant) and nothing ran; ``result`` is the hook's return value."""

    called: bool
    result: Any = None


def call_if_enabled(module_key: str, tenant_id: uuid.UUID, hook_name: str,
                    **kwargs: Any) -> ModuleCall:
    """Call ``hook_name(tenant_id=tenant_id, **kwargs)`` on the app's plugin manager when
    ``module_key`` is installed and enabled for ``tenant_id``; otherwise call nothing.

    Runs in the caller's transaction; what the hook raises passes through. A plugin that may run
    without ``module_key`` marks its implementations of that module's specs
    ``@hookimpl(optionalhook=True)``; the caller needs no import of the module's code.
    """
    registry = app_state().registry
    hook = getattr(registry.hook, hook_name, None)  # None: the module offering it is absent
    if hook is None or registry.module(module_key) is None \
            or not module_state(tenant_id, module_key).enabled:
        return ModuleCall(called=False)
    return ModuleCall(called=True, result=hook(tenant_id=tenant_id, **kwargs))
