"""flask-smorest set-up: OpenAPI 3 at /api/v1/openapi.json, Swagger UI at /api/v1/docs, the
security schemes, and error bodies that always carry a message.

One Api per app (not a module global): an Api keeps the spec of the app it was last bound to,
so a process with two apps (tests, multi-app WSGI) would otherwise serve the wrong document.
"""

from __future__ import annotations

from flask import Flask, g
from flask_smorest import Api
from werkzeug.exceptions import InternalServerError

OPENAPI_SETTINGS = {
    "API_TITLE": "Tenantry",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
}


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
        return payload, code, headers


def init_api(app: Flask) -> Api:
    for key, value in OPENAPI_SETTINGS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Plugin-based multi-tenant business platform. Tenant APIs "
                                "answer on <tenant>.<ROOT_DOMAIN>; platform APIs on "
                                "PLATFORM_HOSTS."},
    })
    api = TenantryApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "Tenant user JWT from POST /api/v1/auth/login"})
    api.spec.components.security_scheme(
        "apiKeyAuth", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    api.spec.components.security_scheme(
        "platformBearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "Platform JWT from POST /api/v1/platform/auth/login, "
                                          "or BOOTSTRAP_TOKEN while set"})
    app.extensions["tenantry_api"] = api
    return api
