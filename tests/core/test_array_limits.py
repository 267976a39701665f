"""Parser limits, arrays (issue 18 item 3): every array a client may send has a maximum length
in its schema, documented as ``maxItems``, and a longer one is a 422 naming the field before
the view does any work. Depth and number length are tests/core/test_number_inputs.py's."""

from __future__ import annotations

import pytest

from core.platform.schemas import MAX_MODULES
from core.testing.app import PLATFORM_HOST, HostClient

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(app):
    response = HostClient(app.test_client(), PLATFORM_HOST).get("/api/v1/openapi.json")
    return response.json


def _resolve(spec, schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _unbounded_arrays(spec, schema, where, seen):
    """Paths (``where``) of arrays without maxItems inside ``schema``."""
    if "$ref" in schema:
        name = schema["$ref"]
        if name in seen:
            return []
        seen = seen | {name}
    schema = _resolve(spec, schema)
    if schema.get("readOnly"):  # dump_only: the parser never reads it
        return []
    found = []
    if schema.get("type") == "array" or "items" in schema:
        if "maxItems" not in schema:
            found.append(where)
        found += _unbounded_arrays(spec, schema.get("items", {}), f"{where}[]", seen)
    for name, child in schema.get("properties", {}).items():
        found += _unbounded_arrays(spec, child, f"{where}.{name}", seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            found += _unbounded_arrays(spec, child, where, seen)
    return found


def test_every_array_a_client_sends_has_a_maximum_length(spec):
    unbounded = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            label = f"{method.upper()} {path}"
            for media in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded_arrays(spec, media.get("schema", {}), f"{label} body",
                                               frozenset())
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    parameter = spec["components"]["parameters"][
                        parameter["$ref"].rsplit("/", 1)[-1]]
                unbounded += _unbounded_arrays(spec, parameter.get("schema", {}),
                                               f"{label} {parameter['name']}", frozenset())
    assert unbounded == [], "\n".join(unbounded)


def test_the_walk_finds_an_unbounded_array():
    """The check above can fail: an array without maxItems, nested in a referenced schema."""
    spec = {"components": {"schemas": {"Line": {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string"}}}}}}}
    body = {"type": "object", "properties": {"lines": {
        "type": "array", "maxItems": 5, "items": {"$ref": "#/components/schemas/Line"}}}}
    assert _unbounded_arrays(spec, body, "body", frozenset()) == ["body.lines[].tags"]


def test_a_longer_array_is_a_422_naming_the_field_and_changes_nothing(platform_admin):
    platform = platform_admin
    slug = "too-many-modules"
    response = platform.post("/api/v1/platform/tenants", json={
        "slug": slug, "owner": {"email": "owner@example.test", "password": "long-password-1"},
        "modules": [f"module-{n}" for n in range(MAX_MODULES + 1)]})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["modules"] == [f"at most {MAX_MODULES} modules"]
    listed = platform.get("/api/v1/platform/tenants", query_string={"page_size": 100}).json
    assert slug not in {tenant["slug"] for tenant in listed}


def test_the_till_refuses_more_lines_than_a_receipt_holds(make_tenant):
    from plugins.pos.schemas import MAX_LINES

    tenant = make_tenant(modules=["pos"])
    line = {"product_id": "00000000-0000-4000-8000-000000000001", "quantity": 1}
    register = "00000000-0000-4000-8000-000000000002"
    response = tenant.as_role("owner").post(f"/api/v1/pos/registers/{register}/receipts",
                                            json={"lines": [line] * (MAX_LINES + 1),
                                                  "payments": []})
    assert response.status_code == 422
    assert "lines" in response.json["errors"]["json"]
