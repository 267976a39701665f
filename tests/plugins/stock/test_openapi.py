"""The catalog, stock and purchasing APIs are fully described in OpenAPI: item URLs document
404, updates their ETag (412, If-Match optional), writes their 409/422, retry-safe postings
their Idempotency-Key header, and bodies use the prefixed schema names."""

from __future__ import annotations

import pytest

from core.testing.app import PLATFORM_HOST, HostClient

PREFIXES = ("/api/v1/catalog/", "/api/v1/stock/", "/api/v1/purchasing/")
IDEMPOTENT = {("post", "/api/v1/stock/moves"), ("post", "/api/v1/stock/adjustments"),
              ("post", "/api/v1/stock/transfers"),
              ("post", "/api/v1/purchasing/orders/{order_id}/receipts")}


@pytest.fixture(scope="module")
def operations(app):
    spec = HostClient(app.test_client(), PLATFORM_HOST).get("/api/v1/openapi.json").json
    found = [(method, path, operation) for path, item in spec["paths"].items()
             if path.startswith(PREFIXES)
             for method, operation in item.items() if method in ("get", "post", "patch",
                                                                 "delete")]
    return spec, found


def test_every_inventory_route_is_there(operations):
    _, found = operations
    assert len(found) == 33  # 10 catalog, 11 stock, 12 purchasing
    assert {path.split("/")[3] for _, path, _ in found} == {"catalog", "stock", "purchasing"}


def test_item_urls_document_404(operations):
    _, found = operations
    missing = [f"{m} {p}" for m, p, op in found if "{" in p and "404" not in op["responses"]]
    assert missing == []


def test_writes_document_their_errors(operations):
    _, found = operations
    for method, path, operation in found:
        responses = operation["responses"]
        assert {"401", "403"} <= set(responses), (method, path)
        if method in ("post", "patch") and "requestBody" in operation:
            assert "422" in responses, (method, path)
        if method == "patch":
            assert {"412", "200"} <= set(responses) and "428" not in responses, path
            if_match = [p for p in operation["parameters"] if p.get("name") == "If-Match"]
            assert if_match and if_match[0]["required"] is False, path
        if method == "delete":
            assert {"204", "409", "412"} <= set(responses), path


def test_postings_document_conflicts_and_idempotency(operations):
    _, found = operations
    for method, path, operation in found:
        if (method, path) in IDEMPOTENT:
            assert "409" in operation["responses"], path
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert "Idempotency-Key" in headers, path


def test_schemas_have_unambiguous_names(operations):
    spec, _ = operations
    names = set(spec["components"]["schemas"])
    assert {"Product", "Category", "StockMove", "StockBalance", "StockLocation",
            "PurchaseOrder", "PurchaseReceipt", "Supplier"} <= names
    assert not [n for n in names if n.startswith(("Stock", "Purchase")) and n[-1].isdigit()]
