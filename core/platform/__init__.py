"""The platform API (``/api/v1/platform``): platform login, tenants, modules, templates.

Answers only on PLATFORM_HOSTS (404 elsewhere) and only to platform credentials (401). One
blueprint (``api_root.py``) carries every view; the route modules attach theirs to it, one
module per resource: ``auth_routes``, ``tenant_routes``, ``erasure_routes``, ``module_routes``,
``template_routes``.
The services they call are in ``services.py``, the schemas in ``schemas.py``.
"""

from core.platform import (  # noqa: F401
    auth_routes,
    erasure_routes,
    module_routes,
    template_routes,
    tenant_routes,
)
from core.platform.api_root import blp

__all__ = ["blp"]
