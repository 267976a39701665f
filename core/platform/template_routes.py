"""Platform routes for templates: named sets of modules with feature values."""

from __future__ import annotations

from flask.views import MethodView

from core.extensions import db
from core.pagination import SQLPage
from core.platform import services
from core.platform.api_root import blp
from core.platform.schemas import TemplateSchema, TemplateUpdateSchema


@blp.route("/templates")
class Templates(MethodView):
    @blp.response(200, TemplateSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_platform
    def get(self):
        """List templates."""
        return services.templates_query()

    @blp.arguments(TemplateSchema)
    @blp.response(201, TemplateSchema)
    @blp.alt_response(409, description="A template with this key exists")
    @blp.requires_platform
    def post(self, data):
        """Create a template; every module and feature must exist."""
        template = services.create_template(**data)
        db.session.flush()
        return template


@blp.route("/templates/<string:key>")
@blp.etag
class TemplateByKey(MethodView):
    @blp.response(200, TemplateSchema)
    @blp.alt_response(404, description="No such template")
    @blp.requires_platform
    def get(self, key):
        """Read one template."""
        return services.get_template(key)

    @blp.arguments(TemplateUpdateSchema)
    @blp.response(200, TemplateSchema)
    @blp.alt_response(404, description="No such template")
    @blp.requires_platform
    def patch(self, data, key):
        """Change a template's name, description or modules (tenants keep what they have)."""
        blp.check_etag(services.get_template(key), TemplateSchema)
        template = services.update_template(key, **data)
        db.session.flush()
        return template

    @blp.response(204)
    @blp.alt_response(404, description="No such template")
    @blp.requires_platform
    def delete(self, key):
        """Delete a template; tenants keep the modules it gave them."""
        blp.check_etag(services.get_template(key), TemplateSchema)
        services.delete_template(key)
        db.session.flush()
