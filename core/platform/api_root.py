"""The one blueprint of the platform API (`/api/v1/platform`); the route modules of this
package attach their views to it."""

from core.blueprint import Blueprint

blp = Blueprint("platform", __name__, url_prefix="/api/v1/platform",
                description="Platform administration (PLATFORM_HOSTS only)")
