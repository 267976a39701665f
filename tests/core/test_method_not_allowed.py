"""Every path of the OpenAPI document answers a method it does not declare with 405 and an
``Allow`` header naming the ones it has (RFC 9110; issue 18 found 49 operations without it)."""

from __future__ import annotations

import re
import uuid

from core.testing.app import PLATFORM_HOST, HostClient

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
EVERY_MODULE = ["catalog", "stock", "sales", "pos", "purchasing", "users", "reports", "billing",
                "cases"]


def test_undeclared_methods_get_405_with_allow(app, make_tenant, platform_admin):
    tenant = make_tenant(modules=EVERY_MODULE)
    owner = tenant.as_role("owner")
    spec = HostClient(app.test_client(), PLATFORM_HOST).get("/api/v1/openapi.json").json
    missing, checked = [], 0
    for path, item in spec["paths"].items():
        declared = {method.upper() for method in item if method.upper() in METHODS}
        client = platform_admin if path.startswith("/api/v1/platform") else owner
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        for method in sorted(set(METHODS) - declared):
            response = client.open(method, url)
            checked += 1
            allow = {m.strip() for m in response.headers.get("Allow", "").split(",") if m}
            if response.status_code != 405 or not declared <= allow:
                missing.append(f"{method} {path}: {response.status_code}, Allow {allow}")
    assert checked > 100
    assert missing == []
