"""/api/v1/docs works offline: Swagger UI comes from the swagger-ui-bundle wheel through our own
routes, under a strict Content-Security-Policy, and renders in a real browser that can reach
nothing but the local server.

The browser test serves the app with werkzeug in a thread and opens the docs on a tenant's host
in headless Chromium with every other host unresolvable; it asserts that Swagger UI rendered the
operations, that the console shows no CSP refusal or failed load, and that every request the
page made went to that host. It takes a screenshot; with UPDATE_DOCS_SCREENSHOTS=1 the
screenshot replaces docs/img/api-docs.png (a normal run leaves the working tree clean).
Chromium is required in CI (CI=true); elsewhere the test skips, saying so, when no Chromium is
installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from core.api_docs import CONTENT_SECURITY_POLICY
from core.testing.app import PLATFORM_HOST, HostClient
from core.testing.browser import chromium_path

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "api-docs.png"


# --------------------------------------------------------------------------- the page itself


def test_the_page_loads_nothing_from_another_origin(client):
    response = HostClient(client, PLATFORM_HOST).get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "cdn" not in html.lower() and "http" not in html  # every URL is local and relative
    assert "<script>" not in html  # no inline script: the CSP would block it
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("asset, mimetype", [
    ("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
    ("tenantry-docs.js", "text/javascript"), ("favicon-32x32.png", "image/png")])
def test_assets_are_served_from_the_package_on_any_host(client, asset, mimetype):
    response = client.get(f"/api/v1/docs/assets/{asset}", base_url="http://anything.example")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert len(response.get_data()) > 100


@pytest.mark.parametrize("asset", ["index.html", "swagger-initializer.js", "../__init__.py",
                                   "swagger-ui-bundle.js.map", "nothing.js"])
def test_only_the_assets_the_page_uses_are_served(client, asset):
    response = HostClient(client, PLATFORM_HOST).get(f"/api/v1/docs/assets/{asset}")
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_the_docs_answer_on_a_tenant_host_without_credentials(tenant):
    response = tenant.anonymous().get("/api/v1/docs")
    assert response.status_code == 200
    spec = tenant.anonymous().get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json["servers"][0]["url"] == "/"


# --------------------------------------------------------------------------- in a browser


class _Recorder:
    """WSGI middleware that remembers (host, path) of every request the browser makes."""

    def __init__(self, app):
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        self.seen.append((environ.get("HTTP_HOST", ""), environ.get("PATH_INFO", "")))
        return self.app(environ, start_response)


@pytest.fixture
def live_server(app):
    recorder = _Recorder(app.wsgi_app)
    original, app.wsgi_app = app.wsgi_app, recorder
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, recorder
    finally:
        server.shutdown()
        thread.join(5)
        app.wsgi_app = original


def _run_chromium(browser: str, host: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="tenantry-chromium-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
            # Network off: the tenant's host is this machine, every other name fails to resolve.
            f"--host-resolver-rules=MAP {host} 127.0.0.1, MAP * ~NOTFOUND, "
            "EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000", "--window-size=1280,1000", *extra, url]
        return subprocess.run(command, capture_output=True, text=True, timeout=120,
                              check=False)


def test_swagger_ui_renders_offline_in_chromium(live_server, tenant, tmp_path):
    browser = chromium_path()
    port, recorder = live_server
    url = f"http://{tenant.host}:{port}/api/v1/docs"

    result = _run_chromium(browser, tenant.host, url, "--dump-dom", "--enable-logging=stderr",
                           "--v=0")
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    # The console: no CSP refusal, no failed load (a CDN URL would fail to resolve).
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Content Security Policy" in line
                or "Refused to" in line or "Failed to load" in line], console
    assert "opblock" in dom, (dom[-2000:], result.stderr[-2000:])
    for operation in ("/api/v1/auth/login", "/api/v1/catalog/products", "/healthz"):
        assert operation in dom, operation
    assert "Tenantry" in dom and "swagger-ui" in dom

    hosts = {host for host, _path in recorder.seen}
    paths = {path for _host, path in recorder.seen}
    assert hosts == {f"{tenant.host}:{port}"}  # the page asked this server only, on its host
    assert {"/api/v1/docs", "/api/v1/openapi.json", "/api/v1/docs/assets/swagger-ui-bundle.js",
            "/api/v1/docs/assets/tenantry-docs.js",
            "/api/v1/docs/assets/swagger-ui.css"} <= paths

    screenshot = tmp_path / "api-docs.png"
    shot = _run_chromium(browser, tenant.host, url, f"--screenshot={screenshot}",
                         "--hide-scrollbars")
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(screenshot, SCREENSHOT)
