"""The OpenAPI document is valid OpenAPI 3 (openapi-spec-validator, 0 errors), and money and
quantities are documented as what the API sends: decimal strings with a pattern and bounds.

Before: 41 errors, every one a Decimal bound or default emitted as a string ("0.00") on a
property typed ``number``.
"""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator

from core.testing.app import PLATFORM_HOST, HostClient


@pytest.fixture(scope="module")
def spec(app):
    response = HostClient(app.test_client(), PLATFORM_HOST).get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def _properties(node, where="#"):
    """Every (location, schema) of a property or parameter anywhere in the document."""
    if isinstance(node, dict):
        if "type" in node or "format" in node:
            yield where, node
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{where}/{index}")


def test_the_document_validates_with_no_errors(spec):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV30SpecValidator(spec).iter_errors()]
    assert errors == []


def test_decimals_are_strings_with_a_pattern_and_bounds(spec):
    decimals = [(where, node) for where, node in _properties(spec)
                if node.get("format") == "decimal"]
    assert len(decimals) > 50  # money and quantities of every module
    for where, node in decimals:
        assert node["type"] == "string", where
        pattern = re.compile(node["pattern"])
        # The pattern says what is accepted: an inclusive bound matches, an exclusive one not.
        for bound, exclusive in (("x-minimum", "x-exclusiveMinimum"),
                                 ("x-maximum", "x-exclusiveMaximum"), ("example", None)):
            accepted = not (exclusive and node.get(exclusive))
            assert bool(pattern.match(node[bound])) == accepted, (where, bound, node[bound])
        assert "minimum" not in node and "maximum" not in node, where
        assert "Decimal string" in node["description"], where
        if node.get("default") is not None:
            assert pattern.match(node["default"]), where


def test_no_property_is_a_number_with_string_bounds(spec):
    wrong = [where for where, node in _properties(spec) if node.get("type") == "number"]
    assert wrong == []  # the API has no float fields; decimals are strings


def test_bounds_follow_the_column_and_the_validators(spec):
    schemas = spec["components"]["schemas"]
    price = schemas["Product"]["properties"]["sale_price"]
    assert (price["x-minimum"], price["x-maximum"]) == ("0.00", "999999999999.99")
    tax_rate = schemas["Product"]["properties"]["tax_rate"]
    assert (tax_rate["x-minimum"], tax_rate["x-maximum"]) == ("0.00", "100.00")
    quantity = schemas["PosReceiptLine"]["properties"]["quantity"]
    assert quantity["x-minimum"] == "0.000" and quantity["x-exclusiveMinimum"] is True
    assert "greater than 0.000 and at most 99999999999.999" in quantity["description"]
    gross = schemas["SalesOrderLine"]["properties"]["gross"]
    assert gross["readOnly"] is True
    assert gross["description"] == ("quantity x unit_price. Decimal string with 2 decimal "
                                    "places.")


def test_the_server_is_the_host_the_docs_were_opened_on(spec):
    assert [server["url"] for server in spec["servers"]] == ["/"]
    assert "tenant's host" in spec["servers"][0]["description"]
