"""The browsable API docs at /api/v1/docs: Swagger UI served from the ``swagger-ui-bundle``
wheel, so the page works without internet (no CDN), under a strict Content-Security-Policy.

Three things are served, all on the doc blueprint flask-smorest registers (``api-docs.*``,
hostless, so the same page answers on every host):

- ``/api/v1/docs``: a small HTML page with no inline script; Swagger UI's configuration
  travels as JSON in a ``data-config`` attribute;
- ``/api/v1/docs/assets/<file>``: the wheel's CSS and JavaScript, read in place (not copied
  into this repository), only the files the page uses;
- ``/api/v1/docs/assets/tenantry-docs.js``: the initializer that starts Swagger UI. It lives
  in this module rather than in a .js file next to it so that it ships with the package
  without package-data rules.

Trying tenant endpoints from the page: tenants are chosen by the Host header, and the spec
names no absolute server, so "Try it out" calls the host the page was opened on. Open the
docs on the tenant's host (``http://demo.localhost:8000/api/v1/docs``) to call that tenant's
API; on a platform host they call the platform API.
"""

from __future__ import annotations

import json

import swagger_ui_bundle
from flask import Blueprint, Response, abort, send_from_directory, url_for
from markupsafe import escape

from core.app_state import app_state

ASSETS_PATH = "/docs/assets"  # under the doc blueprint's /api/v1 prefix
INITIALIZER = "tenantry-docs.js"
# Only what the page loads: not the wheel's index.html, whose inline script the policy forbids.
SERVED_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})

# No inline script or style, nothing from another origin: the page, its assets, the spec and
# "Try it out" requests all stay on the host the page came from. Swagger UI sets styles through
# the DOM (allowed); its icons are data: URIs in its CSS.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                           "form-action 'none'; frame-ancestors 'none'")

_INITIALIZER_JS = """\
// Starts Swagger UI with the configuration the page carries in data-config (no inline script).
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("swagger-ui");
  var config = JSON.parse(element.getAttribute("data-config"));
  config.domNode = element;
  config.presets = [SwaggerUIBundle.presets.apis];
  config.layout = "BaseLayout";
  window.ui = SwaggerUIBundle(config);
});
"""

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="icon" type="image/png" href="{favicon}">
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui" data-config="{config}"></div>
  <script src="{bundle}"></script>
  <script src="{initializer}"></script>
</body>
</html>
"""


def _asset_url(filename: str) -> str:
    return url_for(f"{_blueprint_name()}.swagger_ui_asset", filename=filename)


def _blueprint_name() -> str:
    return app_state().api._make_doc_blueprint_name()


def swagger_ui_page(title: str, spec_url: str, overrides: dict) -> Response:
    """The docs page: Swagger UI over ``spec_url``; ``overrides`` is OPENAPI_SWAGGER_UI_CONFIG."""
    config = {
        "url": spec_url,
        "deepLinking": True,
        "validatorUrl": None,  # the default posts the spec to validator.swagger.io
        **overrides,
    }
    html = _PAGE.format(title=escape(title), favicon=_asset_url("favicon-32x32.png"),
                        css=_asset_url("swagger-ui.css"),
                        bundle=_asset_url("swagger-ui-bundle.js"),
                        initializer=_asset_url(INITIALIZER),
                        config=escape(json.dumps(config)))
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def swagger_ui_asset(filename: str) -> Response:
    if filename == INITIALIZER:
        response = Response(_INITIALIZER_JS, mimetype="text/javascript")
    elif filename in SERVED_ASSETS:
        response = send_from_directory(swagger_ui_bundle.swagger_ui_path, filename,
                                       max_age=86400)
    else:
        abort(404)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def add_asset_routes(blueprint: Blueprint) -> None:
    """Serve the wheel's assets and the initializer on the doc blueprint."""
    blueprint.add_url_rule(f"{ASSETS_PATH}/<path:filename>", endpoint="swagger_ui_asset",
                           view_func=swagger_ui_asset)
