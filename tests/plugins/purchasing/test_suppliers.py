"""Suppliers: create, read, list, update with ETags, deactivate; refusals."""

from __future__ import annotations

import json
import uuid

from tests.fixtures.inventory import assert_module_guard, assert_needs_credentials

SUPPLIERS = "/api/v1/purchasing/suppliers"


def test_create_list_and_update(make_shop):
    shop = make_shop()
    created = shop.admin.post(SUPPLIERS, json={"name": "Acme Paper", "email": "orders@acme.test",
                                               "phone": "+34 600 000 000"})
    assert created.status_code == 201, created.json
    assert created.json["active"] is True
    shop.admin.post(SUPPLIERS, json={"name": "Blue Ink Ltd"})
    shop.admin.post(SUPPLIERS, json={"name": "Zed", "active": False})
    url = f"{SUPPLIERS}/{created.json['id']}"
    assert shop.admin.get(url).json == created.json

    def names(query=""):
        response = shop.admin.get(f"{SUPPLIERS}?{query}")
        assert response.status_code == 200, response.json
        return [s["name"] for s in response.json]

    assert names() == ["Acme Paper", "Blue Ink Ltd", "Zed"]
    assert names("q=ACME.TEST") == ["Acme Paper"]
    assert names("active=false") == ["Zed"]
    assert names("sort=-name&page_size=1&page=2") == ["Blue Ink Ltd"]
    assert json.loads(shop.admin.get(SUPPLIERS).headers["X-Pagination"])["total"] == 3

    etag = shop.admin.get(url).headers["ETag"]
    response = shop.admin.patch(url, json={"active": False}, headers={"If-Match": etag})
    assert response.status_code == 200 and response.json["active"] is False
    assert shop.admin.patch(url, json={"name": "x"}, headers={"If-Match": etag}).status_code == 412


def test_invalid_suppliers_are_422(shop):
    for body in ({}, {"name": ""}, {"name": "x", "email": "not-an-email"},
                 {"name": "x" * 201}, {"name": "x", "rating": 5}):
        assert shop.admin.post(SUPPLIERS, json=body).status_code == 422, body
    supplier = shop.admin.post(SUPPLIERS, json={"name": "Valid"}).json
    assert shop.admin.patch(f"{SUPPLIERS}/{supplier['id']}", json={"email": "@"}).status_code == 422
    assert shop.admin.get(f"{SUPPLIERS}?sort=email").status_code == 422


def test_other_tenant_roles_credentials_and_module_guard(shop, other_shop, make_tenant):
    theirs = other_shop.admin.post(SUPPLIERS, json={"name": "Theirs"}).json
    url = f"{SUPPLIERS}/{theirs['id']}"
    assert shop.admin.get(url).status_code == 404
    assert shop.admin.patch(url, json={"name": "Mine"}).status_code == 404
    assert shop.admin.get(f"{SUPPLIERS}/{uuid.uuid4()}").status_code == 404
    assert "Theirs" not in [s["name"] for s in shop.admin.get(SUPPLIERS).json]
    cashier = shop.tenant.as_role("cashier")
    mine = shop.admin.post(SUPPLIERS, json={"name": "Mine"}).json
    routes = [("GET", SUPPLIERS), ("POST", SUPPLIERS), ("GET", f"{SUPPLIERS}/{mine['id']}"),
              ("PATCH", f"{SUPPLIERS}/{mine['id']}")]
    for method, path in routes:
        assert cashier.open(method, path, json={"name": "c"}).status_code == 403
    assert_needs_credentials(shop.admin, routes)
    assert_module_guard(make_tenant(modules=["stock"]).as_role("owner"), "purchasing", routes)
    owner = shop.tenant.as_role("owner")
    assert owner.post(SUPPLIERS, json={"name": "By owner"}).status_code == 201
