"""The OpenAPI document: served, complete, and honest about auth and errors for every route."""

from __future__ import annotations

import pytest

from core.testing.app import PLATFORM_HOST, HostClient

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client):
    response = HostClient(client, PLATFORM_HOST).get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_spec_is_served_on_any_host_with_security_schemes(client, spec):
    assert spec["openapi"].startswith("3.")
    assert {"bearerAuth", "apiKeyAuth", "platformBearer"} <= set(
        spec["components"]["securitySchemes"])
    other_host = client.get("/api/v1/openapi.json", base_url="http://anything.example")
    assert other_host.status_code == 200


def test_core_routes_are_documented(spec):
    for path in ("/healthz", "/readyz", "/api/v1/auth/login", "/api/v1/auth/me",
                 "/api/v1/tenant/settings", "/api/v1/platform/auth/login"):
        assert path in spec["paths"], path


def test_every_operation_has_a_summary(spec):
    missing = [f"{m.upper()} {p}" for p, m, op in operations(spec) if not op.get("summary")]
    assert missing == []


def test_every_authenticated_operation_documents_401_and_403(spec):
    missing = []
    for path, method, operation in operations(spec):
        if operation.get("security"):
            for status in ("401", "403"):
                if status not in operation["responses"]:
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []


def test_every_operation_with_input_documents_422(spec):
    missing = [f"{m.upper()} {p}" for p, m, op in operations(spec)
               if ("requestBody" in op or any(prm.get("in") == "query"
                                               for prm in op.get("parameters", [])))
               and "422" not in op["responses"]]
    assert missing == []


def test_unknown_paths_get_a_json_404_with_a_message(client):
    response = HostClient(client, PLATFORM_HOST).get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["code"] == 404 and response.json["message"]


def test_oversized_bodies_get_413(client, app):
    body = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = HostClient(client, PLATFORM_HOST).post(
        "/api/v1/platform/auth/login", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["code"] == 413
