"""Categories: a tree per tenant, with sibling names unique, no cycles, ETags, deletes only
when empty, and the usual refusals."""

from __future__ import annotations

import json
import uuid

from tests.fixtures.inventory import assert_module_guard, assert_needs_credentials
from tests.fixtures.products import make_product

CATEGORIES = "/api/v1/catalog/categories"


def _create(client, name, parent=None, expect=201):
    body = {"name": name}
    if parent:
        body["parent_id"] = parent["id"]
    response = client.post(CATEGORIES, json=body)
    assert response.status_code == expect, response.json
    return response.json


def test_build_and_read_a_tree(make_shop):
    shop = make_shop()
    office = _create(shop.admin, "Office")
    pens = _create(shop.admin, "Pens", office)
    _create(shop.admin, "Paper", office)
    _create(shop.admin, "Food")
    assert pens["parent_id"] == office["id"]
    assert shop.admin.get(f"{CATEGORIES}/{pens['id']}").json == pens

    def names(query=""):
        response = shop.admin.get(f"{CATEGORIES}?{query}")
        assert response.status_code == 200, response.json
        return [c["name"] for c in response.json]

    assert names() == ["Food", "Office", "Paper", "Pens"]
    assert names("roots=true") == ["Food", "Office"]
    assert names(f"parent_id={office['id']}&sort=-name") == ["Pens", "Paper"]
    assert names("q=PA") == ["Paper"]
    page = shop.admin.get(f"{CATEGORIES}?page_size=3&page=2")
    assert [c["name"] for c in page.json] == ["Pens"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 4


def test_sibling_names_are_unique_roots_included(shop):
    root = _create(shop.admin, "Unique root")
    assert _create(shop.admin, "Unique root", expect=409)["errors"] == {
        "name": ["already used by a sibling category"]}
    _create(shop.admin, "Unique root", root)  # a child may share its parent's name
    _create(shop.admin, "Child", root)
    assert shop.admin.patch(f"{CATEGORIES}/{_create(shop.admin, 'Other child', root)['id']}",
                            json={"name": "Child"}).status_code == 409


def test_moving_under_itself_or_a_descendant_is_refused(shop):
    a = _create(shop.admin, "A")
    b = _create(shop.admin, "B", a)
    c = _create(shop.admin, "C", b)
    for new_parent in (a, b, c):
        response = shop.admin.patch(f"{CATEGORIES}/{a['id']}", json={"parent_id": new_parent["id"]})
        assert response.status_code == 422, response.json
        assert "parent_id" in response.json["errors"]
    # A legal move: C becomes a root, then A may go under C.
    assert shop.admin.patch(f"{CATEGORIES}/{c['id']}", json={"parent_id": None}).json[
        "parent_id"] is None
    moved = shop.admin.patch(f"{CATEGORIES}/{a['id']}", json={"parent_id": c["id"]})
    assert moved.status_code == 200 and moved.json["parent_id"] == c["id"]


def test_parent_must_exist_in_this_tenant(shop, other_shop):
    theirs = _create(other_shop.admin, "Theirs")
    for parent_id in (theirs["id"], str(uuid.uuid4())):
        response = shop.admin.post(CATEGORIES, json={"name": "Orphan", "parent_id": parent_id})
        assert response.status_code == 422
        mine = _create(shop.admin, f"Mine {parent_id[:4]}")
        response = shop.admin.patch(f"{CATEGORIES}/{mine['id']}", json={"parent_id": parent_id})
        assert response.status_code == 422


def test_etag_and_invalid_fields(shop):
    category = _create(shop.admin, "Tagged")
    url = f"{CATEGORIES}/{category['id']}"
    etag = shop.admin.get(url).headers["ETag"]
    assert shop.admin.patch(url, json={"name": "Tagged 2"},
                            headers={"If-Match": etag}).status_code == 200
    assert shop.admin.patch(url, json={"name": "Tagged 3"},
                            headers={"If-Match": etag}).status_code == 412
    assert shop.admin.delete(url, headers={"If-Match": etag}).status_code == 412
    for body in ({"name": ""}, {"name": "x" * 121}, {"parent_id": "zzz"}, {"colour": "red"}):
        assert shop.admin.patch(url, json=body).status_code == 422, body
    assert shop.admin.post(CATEGORIES, json={}).status_code == 422


def test_delete_only_empty_categories(shop):
    parent = _create(shop.admin, "Parent to delete")
    child = _create(shop.admin, "Child to delete", parent)
    assert shop.admin.delete(f"{CATEGORIES}/{parent['id']}").status_code == 409
    used = _create(shop.admin, "Has products")
    make_product(shop.admin, category_id=used["id"])
    assert shop.admin.delete(f"{CATEGORIES}/{used['id']}").status_code == 409
    assert shop.admin.delete(f"{CATEGORIES}/{child['id']}").status_code == 204
    assert shop.admin.delete(f"{CATEGORIES}/{parent['id']}").status_code == 204
    assert shop.admin.get(f"{CATEGORIES}/{parent['id']}").status_code == 404


def test_another_tenants_category_is_404(shop, other_shop):
    theirs = _create(other_shop.admin, "Not yours")
    url = f"{CATEGORIES}/{theirs['id']}"
    assert shop.admin.get(url).status_code == 404
    assert shop.admin.patch(url, json={"name": "Mine"}).status_code == 404
    assert shop.admin.delete(url).status_code == 404
    assert other_shop.admin.get(url).json["name"] == "Not yours"


def test_roles_credentials_and_module_guard(shop, make_tenant):
    category = _create(shop.admin, "Guarded")
    url = f"{CATEGORIES}/{category['id']}"
    cashier = shop.tenant.as_role("cashier")
    assert cashier.get(CATEGORIES).status_code == 200
    assert cashier.get(url).status_code == 200
    assert cashier.post(CATEGORIES, json={"name": "No"}).status_code == 403
    assert cashier.patch(url, json={"name": "No"}).status_code == 403
    assert cashier.delete(url).status_code == 403
    routes = [("GET", CATEGORIES), ("POST", CATEGORIES), ("GET", url), ("PATCH", url),
              ("DELETE", url)]
    assert_needs_credentials(shop.admin, routes)
    assert_module_guard(make_tenant().as_role("owner"), "catalog", routes)
