"""core/pagination.py's cheaper parts of flask-smorest's pagination give what flask-smorest's
own give: the ``X-Pagination`` object (same keys, order and values) and the parsed parameters,
with one parameters schema instance kept instead of one per request."""

from __future__ import annotations

import json

import pytest
from flask_smorest.pagination import PaginationMixin

from core.pagination import PaginationParser, pagination_metadata


@pytest.mark.parametrize("item_count", [0, 1, 9, 10, 11, 25, 100, 101])
@pytest.mark.parametrize("page_size", [1, 10, 25, 100])
@pytest.mark.parametrize("page", [1, 2, 3, 11, 500])
def test_the_metadata_is_flask_smorests(page, page_size, item_count):
    ours = pagination_metadata(page, page_size, item_count)
    theirs = PaginationMixin._make_pagination_metadata(page, page_size, item_count)
    assert json.dumps(ours) == json.dumps(theirs)  # keys, order and values


def test_a_list_route_pages_with_one_parameters_schema(make_tenant):
    """Through a real list route: the header for a page in range, the last page and a page
    past the end, bad parameters still 422, and one parameters schema instance throughout."""
    from core.blueprint import Blueprint
    from tests.fixtures.products import make_product

    parser = Blueprint.PAGINATION_ARGUMENTS_PARSER
    assert isinstance(parser, PaginationParser)
    admin = make_tenant(modules=["catalog"]).as_role("admin")
    for _ in range(3):
        make_product(admin)
    seen = []
    for page, expected in ((1, pagination_metadata(1, 2, 3)), (2, pagination_metadata(2, 2, 3)),
                           (5, pagination_metadata(5, 2, 3))):
        response = admin.get(f"/api/v1/catalog/products?page={page}&page_size=2")
        assert response.status_code == 200
        assert json.loads(response.headers["X-Pagination"]) == expected
        seen.append(dict(parser._schemas))
    assert seen[0] and all(each == seen[0] for each in seen)  # the same instances, kept
    refused = admin.get("/api/v1/catalog/products?page_size=101")
    assert refused.status_code == 422
    assert "page_size" in json.dumps(refused.json)
