"""Platform routes for the module registry: what plugins offer, what is installed, and the
platform's name and description of each module."""

from __future__ import annotations

from flask.views import MethodView

from core.extensions import db
from core.platform import services
from core.platform.api_root import blp
from core.platform.schemas import ModuleCreateSchema, ModuleSchema, ModuleUpdateSchema


@blp.route("/modules")
class Modules(MethodView):
    @blp.response(200, ModuleSchema(many=True))
    @blp.paginate(page_size=100)  # a registry is small: one page by default
    @blp.requires_platform
    def get(self, pagination_parameters):
        """List modules: available (a plugin offers it) and installed (migrated)."""
        modules = services.list_modules()
        pagination_parameters.item_count = len(modules)
        first = pagination_parameters.first_item
        return modules[first:first + pagination_parameters.page_size]

    @blp.arguments(ModuleCreateSchema)
    @blp.response(201, ModuleSchema)
    @blp.alt_response(409, description="The module is already registered")
    @blp.requires_platform
    def post(self, data):
        """Register a module's metadata before its migrations are applied."""
        module = services.create_module(**data)
        db.session.flush()
        return module


@blp.route("/modules/<string:key>")
class ModuleByKey(MethodView):
    @blp.response(200, ModuleSchema)
    @blp.alt_response(404, description="No such module")
    @blp.requires_platform
    def get(self, key):
        """Read one module."""
        return services.get_module(key)

    @blp.arguments(ModuleUpdateSchema)
    @blp.response(200, ModuleSchema)
    @blp.requires_platform
    def patch(self, data, key):
        """Change a module's name or description as tenants see them."""
        module = services.update_module(key, **data)
        db.session.flush()
        return module
