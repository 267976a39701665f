"""The Blueprint every module's routes use: auth decorators, ETags without 428, documented
errors, and the markers a view carries for the request pipeline (hostless, needs_schema,
login_endpoint) with the look-ups that read them off the current request's view.

Decorators on a view, in this fixed order (outermost first)::

    @blp.arguments(...)         # flask-smorest: parse input
    @blp.response(...)          # flask-smorest: serialise output
    @blp.paginate(SQLPage)      # lists only (core.pagination)
    @blp.requires_roles(...)    # or @blp.requires_platform
    def get(...): ...

The auth decorators also document 401/403 and the security scheme in OpenAPI. They keep their
credential check on the view, so the pipeline (core.pipeline) runs it before the body is parsed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from flask import current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.error_handler import ErrorSchema
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import resolve_schema_instance

from core.errors import Forbidden, Unauthorized
from core.fast_dump import compile_dump
from core.pagination import PaginationParser, pagination_metadata

TENANT_SECURITY = [{"bearerAuth": []}, {"apiKeyAuth": []}]
PLATFORM_SECURITY = [{"platformBearer": []}]

# Endpoints that answer on any host with no tenant and no credentials (liveness, docs).
_HOSTLESS_ATTR = "_tenantry_hostless"


def hostless(view):
    """Mark a view (function or MethodView class) as served before host resolution."""
    setattr(view, _HOSTLESS_ATTR, True)
    return view


# Hostless views need no database unless marked: probes, docs and metrics must answer while
# it is down or unmigrated. A hostless view that reads tables gets the schema check that
# every other route gets (503 naming what is missing), instead of a query on a missing table.
_NEEDS_SCHEMA_ATTR = "_tenantry_needs_schema"


def needs_schema(view):
    """Mark a hostless view that uses the database: the schema is checked before it runs."""
    setattr(view, _NEEDS_SCHEMA_ATTR, True)
    return view


# Login endpoints log a start and an end line with the final status whatever the outcome
# (runbook 000, "Troubleshooting auth regressions"; core.request_log), also when the host, the
# tenant's state or the body is refused before the view runs.
_LOGIN_ATTR = "_tenantry_login"


def login_endpoint(label: str):
    """Mark a login view (MethodView class): ``<label> start``/``<label> end ... status=``."""

    def mark(view):
        setattr(view, _LOGIN_ATTR, label)
        return view

    return mark


# The credential check of ``requires_roles``/``requires_platform``, kept on the view method.
# functools.wraps copies it onto every outer decorator, so the pipeline can run it before
# flask-smorest parses the body: a caller without credentials gets 401, not 422.
_AUTH_CHECK_ATTR = "_tenantry_auth_check"


def _view_object():
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "view_class", view)


def view_auth_check() -> Callable[[], None] | None:
    """The credential check of the view this request goes to, if it requires credentials."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    return getattr(method, _AUTH_CHECK_ATTR, None)


def check_view_credentials() -> None:
    check = view_auth_check()
    if check is not None:
        check()


def login_label() -> str | None:
    """The label of the login view this request goes to (None for every other view)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(getattr(view, "view_class", view), _LOGIN_ATTR, None)


def is_hostless() -> bool:
    if request.endpoint is None:
        return False
    endpoint = request.endpoint
    if endpoint.startswith("api-docs.") or endpoint == "static" or endpoint.endswith(".static"):
        return True  # the API docs' assets, and the console's and its plugins' static files
    return bool(getattr(_view_object(), _HOSTLESS_ATTR, False))


def view_needs_schema() -> bool:
    return bool(getattr(_view_object(), _NEEDS_SCHEMA_ATTR, False))


def tenant_role_check(roles: Iterable[str] = (),
                      kinds: Iterable[str] = ("user", "api_key")) -> Callable[[], None]:
    """The check of a view that needs a tenant identity of one of ``kinds`` whose role is in
    ``roles`` (any role when empty): 401 without tenant credentials, 403 otherwise."""
    allowed_roles, allowed_kinds = tuple(roles), tuple(kinds)

    def check() -> None:
        identity = g.get("identity")
        # No credentials, or platform ones (another audience): not authenticated here.
        if identity is None or not identity.is_tenant:
            raise Unauthorized("tenant credentials required")
        # Valid tenant credentials of a kind this route does not take: not allowed.
        if identity.kind not in allowed_kinds:
            kind = "an API key" if identity.kind == "api_key" else "a user login"
            raise Forbidden(f"this route does not accept {kind}")
        if allowed_roles and identity.role not in allowed_roles:
            raise Forbidden(f"role '{identity.role}' may not do this; allowed: "
                            f"{', '.join(allowed_roles)}")

    return check


def platform_check() -> None:
    """The check of a view that needs a platform admin (or BOOTSTRAP_TOKEN): else 401."""
    identity = g.get("identity")
    if identity is None or not identity.is_platform:
        raise Unauthorized("platform credentials required")


def with_auth_check(view: Callable, check: Callable[[], None]) -> Callable:
    """``view`` running ``check`` first, with the check recorded for the pipeline (which runs
    it before the body is parsed)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        check()
        return view(*args, **kwargs)

    setattr(wrapper, _AUTH_CHECK_ATTR, check)
    return wrapper


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint with Tenantry's auth decorators."""

    PAGINATION_ARGUMENTS_PARSER = PaginationParser()

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        return pagination_metadata(page, page_size, item_count)

    def response(self, status_code, schema=None, **kwargs):
        """flask-smorest's, with the schema's ``dump`` planned once (core/fast_dump.py): the
        same answer without marshmallow's per-value walk."""
        return super().response(status_code, compile_dump(resolve_schema_instance(schema)),
                                **kwargs)

    def requires_roles(self, *roles: str, kinds: Iterable[str] = ("user", "api_key")):
        """Tenant identity (user JWT or API key) whose role is in ``roles``; else 401/403."""
        check = tenant_role_check(roles, kinds)

        def decorator(view: Callable):
            return self._document_auth(with_auth_check(view, check), TENANT_SECURITY, roles)

        return decorator

    def requires_platform(self, view: Callable):
        """Platform admin JWT or BOOTSTRAP_TOKEN; else 401."""
        return self._document_auth(with_auth_check(view, platform_check), PLATFORM_SECURITY, ())

    def _document_pagination_metadata(self, spec, resp_doc):
        """``X-Pagination`` carries a JSON object, so it is documented with ``content``
        (OpenAPI 3's way to say a header value is serialised as JSON), not with a bare object
        ``schema``, whose serialisation would be ``key,value,...`` (``style: simple``):
        validators -- schemathesis in tests/contract -- read the JSON text against it."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata, a JSON object",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }

    # ETags (docs/plugin-authoring.md): a stale If-Match answers 412; a missing one is allowed
    # (no 428), so clients that do not track ETags can still update.
    def _check_precondition(self):
        return None

    def check_etag(self, etag_data, etag_schema=None):
        if not request.if_match:
            return None
        return super().check_etag(etag_data, etag_schema)

    def _verify_check_etag(self):
        # Without If-Match there is nothing to check, and nothing to warn about.
        if request.if_match:
            super()._verify_check_etag()

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        doc.get("responses", {}).pop(428, None)
        parameters = doc.get("parameters", [])
        if "IF_MATCH" in parameters:
            parameters[parameters.index("IF_MATCH")] = {
                "name": "If-Match", "in": "header", "required": False,
                "schema": {"type": "string"},
                "description": "ETag from a GET; a stale one answers 412"}
        return doc

    def error(self, status: int, description: str):
        """Document an error answer of a view (flask-smorest's error body)."""
        return self.alt_response(status, schema=ErrorSchema, description=description)

    def _document_auth(self, view, security, roles) -> Callable:
        # flask-smorest's doc decorators return a new wrapper carrying the documentation (the
        # wrapped function is left untouched), so the result must be what the view becomes.
        doc = {"security": security}
        if roles:
            doc["description"] = "Roles: " + ", ".join(roles) + "."
        view = self.doc(**doc)(view)
        view = self.alt_response(401, description="Missing or invalid credentials")(view)
        return self.alt_response(403, description="Not allowed for this role, tenant or "
                                                  "module")(view)
