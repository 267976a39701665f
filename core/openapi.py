"""flask-smorest set-up: OpenAPI 3 at /api/v1/openapi.json, Swagger UI at /api/v1/docs (served
from packaged assets, core.api_docs), the security schemes, decimals documented as strings,
and error bodies that always carry a message.

One Api per app (not a module global): an Api keeps the spec of the app it was last bound to,
so a process with two apps (tests, multi-app WSGI) would otherwise serve the wrong document.
"""

from __future__ import annotations

from apispec import BasePlugin
from flask import Flask, g, url_for
from flask_smorest import Api
from marshmallow import fields
from werkzeug.exceptions import InternalServerError, MethodNotAllowed

from core import api_docs
from core.app_state import app_state
from core.json_limits import MAX_DEPTH, MAX_NUMBER_LENGTH
from core.schemas import DECIMAL_PATTERN, FixedDecimal, NonZero

OPENAPI_SETTINGS = {
    "API_TITLE": "Tenantry",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Our own route (core.api_docs), never a CDN: the docs must work without internet.
    "OPENAPI_SWAGGER_UI_URL": "/api/v1" + api_docs.ASSETS_PATH + "/",
}

# No absolute server: "Try it out" calls the host the docs were opened on, and the host
# chooses the tenant (core.api_docs explains; README "API" says it to users).
SERVERS = [{"url": "/", "description": "This page's host (a tenant's host picks the tenant)"}]
# Markdown (Swagger UI renders it): angle brackets inside code spans, or they vanish as HTML.
DESCRIPTION = (
    "Plugin-based multi-tenant business platform. Tenant APIs answer on the tenant's host "
    "(`<tenant>.<ROOT_DOMAIN>`), platform APIs on `PLATFORM_HOSTS`. To try a tenant's API "
    "from this page, open the page on that tenant's host (in development "
    "`http://demo.localhost:8000/api/v1/docs`), log in with `POST /api/v1/auth/login` and "
    "give the token to Authorize. Money and quantities are decimal strings (`\"12.50\"`). "
    f"JSON bodies nested deeper than {MAX_DEPTH} levels or with a number literal longer than "
    f"{MAX_NUMBER_LENGTH} characters are refused with 422.")


UNLIMITED_PATHS = frozenset({"/healthz", "/health", "/readyz"})  # hostless probes
_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {"description": 'The quotas counted, e.g. `"tenant";q=6000;w=60, '
                                        '"api_key";q=3000;w=60` (IETF draft)',
                         "schema": {"type": "string"}},
    "RateLimit": {"description": 'The quota nearest its limit: `"api_key";r=2990;t=42` '
                                 "(r requests remain, the window ends in t seconds)",
                  "schema": {"type": "string"}},
}
TOO_MANY_REQUESTS = {
    "description": "A rate limit is used up (docs/security.md, \"Rate limits\"), or a login "
                   "limit; see Retry-After",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {
        "type": "integer"}}, **_RATE_LIMIT_HEADERS},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


MAX_PAGE = 10**15  # (page - 1) x page_size must fit the database's bigint OFFSET


class OperationDocs(BasePlugin):
    """apispec plugin for what every operation shares: the ``page`` parameter's maximum (beyond
    it the database refuses the offset), and -- on every operation but the probes -- the 429 and
    the rate-limit headers of the success answers (core/rate_limits.py)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for parameter in operation.get("parameters", []):
                if isinstance(parameter, dict) and parameter.get("name") == "page" \
                        and parameter.get("in") == "query":
                    parameter.setdefault("schema", {})["maximum"] = MAX_PAGE
        if path in UNLIMITED_PATHS:
            return
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            existing = responses.get("429") or responses.get(429) or {}
            responses.pop(429, None)
            described = existing.get("description")
            responses["429"] = {**TOO_MANY_REQUESTS, "description": (
                f"{described.rstrip('.')}; or a request rate limit is used up" if described
                else TOO_MANY_REQUESTS["description"])}
            for status, response in responses.items():
                if str(status).startswith("2") and isinstance(response, dict) \
                        and "$ref" not in response:
                    response.setdefault("headers", {}).update(_RATE_LIMIT_HEADERS)


class SchemaDocs(BasePlugin):
    """apispec plugin for rules a schema states across its fields, which field metadata cannot
    say: a schema's ``class Meta: openapi = {...}`` is merged into its component (e.g.
    ``minProperties: 1`` for a change that must change something, or a ``oneOf`` per
    discount kind). The schema's own validators keep enforcing the rule; this documents it, so
    clients and generators (schemathesis) send what the API accepts."""

    def schema_helper(self, name, definition, **kwargs):
        extra = getattr(getattr(kwargs.get("schema"), "Meta", None), "openapi", None)
        return dict(extra) if extra else None


class TenantryApi(Api):
    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        if "message" not in payload:
            if isinstance(error, InternalServerError):
                payload["message"] = ("internal error; quote request id "
                                      f"{g.get('request_id', '-')} when reporting it")
            else:
                payload["message"] = error.description or error.name
        if code == 401:
            headers = {**headers, "WWW-Authenticate": 'Bearer realm="tenantry"'}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # RFC 9110: a 405 must name the methods the resource has (flask-smorest's handler
            # builds its own headers and dropped werkzeug's Allow).
            headers = {**headers, "Allow": ", ".join(sorted(error.valid_methods))}
        return payload, code, headers

    # Swagger UI from the swagger-ui-bundle wheel with a CSP-safe page, instead of
    # flask-smorest's template (CDN-style asset URL plus an inline script).
    def _register_swagger_ui_rule(self, blueprint):
        super()._register_swagger_ui_rule(blueprint)
        api_docs.add_asset_routes(blueprint)

    def _openapi_swagger_ui(self):
        return api_docs.swagger_ui_page(
            title=self.spec.title,
            spec_url=url_for(f"{self._make_doc_blueprint_name()}.openapi_json"),
            overrides=self.config.get("OPENAPI_SWAGGER_UI_CONFIG", {}))


def _number_text(field: FixedDecimal, value) -> str:
    return field._serialize(value, None, None)


def _digits(count: int) -> str:
    return "[0-9]" if count == 1 else f"[0-9]{{1,{count}}}"


def decimal_pattern(field: FixedDecimal) -> str:
    """The strings ``field`` accepts, as a regular expression, as closely as a pattern can say
    it: a sign only when negatives are allowed, at most as many integer digits as the column
    holds (fewer under a power-of-ten maximum such as a tax rate's 100), at most ``places``
    decimals, and no all-zero value when the minimum is zero exclusive (or above zero).
    Generators (schemathesis) then send what the API accepts, and clients read the rule."""
    (low, low_inclusive), (high, high_inclusive) = field.bounds()
    places = field.decimal_places
    fraction = rf"(\.[0-9]{{1,{places}}})?" if places else ""
    integer_digits = len(str(int(field.limit))) - 1
    number = _digits(integer_digits) + fraction
    exponent = high.log10() if high > 0 else None
    if (exponent is not None and exponent == exponent.to_integral_value()
            and 0 < exponent < integer_digits):
        number = _digits(int(exponent)) + fraction
        if high_inclusive:
            zeros = rf"(\.0{{1,{places}}})?" if places else ""
            number = f"({int(high)}{zeros}|{number})"
    sign = "-?" if low < 0 else ""
    excludes_zero = any(isinstance(rule, NonZero) for rule in field.validators)
    not_zero = (r"(?!-?0*(\.0*)?$)" if excludes_zero or low > 0 or (low == 0 and not low_inclusive)
                else "")
    return f"^{not_zero}{sign}{number}$"


def nullable_nested2properties(self, field, ret, **kwargs) -> dict:
    """apispec documents a nullable nested object (OpenAPI 3.0) as ``anyOf: [<the schema>,
    {type: object, nullable: true}]`` -- and the second branch admits *any* object, which the
    API refuses (unknown fields, missing required ones). Narrowed to null alone."""
    alternatives = ret.get("anyOf")
    if not (isinstance(field, fields.Nested) and field.allow_none and alternatives):
        return {}
    null_only = {"type": "object", "nullable": True, "enum": [None]}
    return {"anyOf": [null_only if alternative.get("nullable") and "$ref" not in alternative
                      else alternative for alternative in alternatives]}


def decimal2properties(self, field, ret, **kwargs) -> dict:
    """apispec attribute function: a FixedDecimal is a decimal string with a pattern.

    JSON Schema's minimum/maximum apply to numbers only, so the bounds go into the description
    and into ``x-minimum``/``x-maximum`` (apispec's names for bounds of non-numbers), with
    ``x-exclusiveMinimum``/``x-exclusiveMaximum`` when a bound is exclusive.
    """
    if not isinstance(field, FixedDecimal):
        return {}
    (low, low_inclusive), (high, high_inclusive) = field.bounds()
    low_text, high_text = _number_text(field, low), _number_text(field, high)
    pattern = DECIMAL_PATTERN if field.dump_only else decimal_pattern(field)
    properties = {"pattern": pattern, "x-minimum": low_text, "x-maximum": high_text,
                  "example": _number_text(field, max(low, min(high, 1)))}
    if not low_inclusive:
        properties["x-exclusiveMinimum"] = True
    if not high_inclusive:
        properties["x-exclusiveMaximum"] = True
    if field.dump_only:
        rule = f"Decimal string with {field.decimal_places} decimal places."
    else:
        low_words = "at least" if low_inclusive else "greater than"
        high_words = "at most" if high_inclusive else "less than"
        rule = (f"Decimal string, at most {field.decimal_places} decimal places, {low_words} "
                f"{low_text} and {high_words} {high_text}. A JSON number in that range is "
                "accepted too.")
    described = ret.get("description")
    if described:
        rule = f"{described.rstrip('.')}. {rule}"
    properties["description"] = rule
    return properties


def init_api(app: Flask) -> Api:
    for key, value in OPENAPI_SETTINGS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": DESCRIPTION},
                                               "servers": SERVERS})
    api = TenantryApi(app)
    operation_docs = OperationDocs()
    operation_docs.init_spec(api.spec)
    api.spec.plugins.append(operation_docs)
    schema_docs = SchemaDocs()
    schema_docs.init_spec(api.spec)
    api.spec.plugins.append(schema_docs)
    api.register_field(FixedDecimal, "string", "decimal")
    api.ma_plugin.converter.add_attribute_function(decimal2properties)
    api.ma_plugin.converter.add_attribute_function(nullable_nested2properties)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "Tenant user JWT from POST /api/v1/auth/login"})
    api.spec.components.security_scheme(
        "apiKeyAuth", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    api.spec.components.security_scheme(
        "platformBearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "Platform JWT from POST /api/v1/platform/auth/login, "
                                          "or BOOTSTRAP_TOKEN while set"})
    app_state(app).api = api
    return api
