"""Stock locations: the default warehouse made when stock is enabled, creating, renaming,
switching the default, deactivating, and the refusals."""

from __future__ import annotations

import uuid

from tests.fixtures.inventory import assert_module_guard, assert_needs_credentials

LOCATIONS = "/api/v1/stock/locations"


def test_enabling_stock_creates_one_default_warehouse(make_shop):
    shop = make_shop(modules=("stock",))  # catalog comes with it
    rows = shop.admin.get(LOCATIONS).json
    assert [(r["code"], r["name"], r["is_default"], r["active"]) for r in rows] == [
        ("MAIN", "Main warehouse", True, True)]
    settings = shop.tenant.as_role("owner")
    assert settings.patch("/api/v1/tenant/settings", json={"modules": {
        "stock": {"enabled": False}}}).status_code == 200
    assert settings.patch("/api/v1/tenant/settings", json={"modules": {
        "stock": {"enabled": True}}}).status_code == 200
    assert len(shop.admin.get(LOCATIONS).json) == 1  # enabling again adds nothing


def test_create_update_and_switch_default(make_shop):
    shop = make_shop()
    main = shop.admin.get(LOCATIONS).json[0]
    shop_floor = shop.admin.post(LOCATIONS, json={"code": "SHOP", "name": "Shop floor"})
    assert shop_floor.status_code == 201, shop_floor.json
    assert shop_floor.json["is_default"] is False
    url = f"{LOCATIONS}/{shop_floor.json['id']}"
    etag = shop.admin.get(url).headers["ETag"]
    response = shop.admin.patch(url, json={"is_default": True}, headers={"If-Match": etag})
    assert response.status_code == 200 and response.json["is_default"] is True
    assert shop.admin.get(f"{LOCATIONS}/{main['id']}").json["is_default"] is False
    assert shop.admin.patch(url, json={"name": "x"}, headers={"If-Match": etag}).status_code == 412
    # The default one cannot be switched off or deactivated; another may.
    assert shop.admin.patch(url, json={"is_default": False}).status_code == 422
    assert shop.admin.patch(url, json={"active": False}).status_code == 409
    response = shop.admin.patch(f"{LOCATIONS}/{main['id']}", json={"active": False})
    assert response.status_code == 200 and response.json["active"] is False
    assert [r["code"] for r in shop.admin.get(f"{LOCATIONS}?active=true").json] == ["SHOP"]
    # Creating a new default moves the flag.
    van = shop.admin.post(LOCATIONS, json={"code": "VAN", "name": "Van", "is_default": True})
    assert van.json["is_default"] is True
    assert [r["code"] for r in shop.admin.get(LOCATIONS).json if r["is_default"]] == ["VAN"]


def test_codes_are_unique_and_fields_validated(shop):
    assert shop.admin.post(LOCATIONS, json={"code": "DUPL", "name": "One"}).status_code == 201
    response = shop.admin.post(LOCATIONS, json={"code": "DUPL", "name": "Two"})
    assert response.status_code == 409 and response.json["errors"] == {"code": ["already in use"]}
    for body in ({"name": "no code"}, {"code": "", "name": "x"}, {"code": "X" * 33, "name": "x"},
                 {"code": "OK", "name": "x", "is_default": "perhaps"}):
        assert shop.admin.post(LOCATIONS, json=body).status_code == 422, body
    other = shop.admin.post(LOCATIONS, json={"code": "OTHER", "name": "x"}).json
    assert shop.admin.patch(f"{LOCATIONS}/{other['id']}", json={"code": "DUPL"}) \
        .status_code == 409
    inactive_default = {"code": "BAD", "name": "x", "is_default": True, "active": False}
    assert shop.admin.post(LOCATIONS, json=inactive_default).status_code == 422


def test_other_tenant_roles_credentials_and_module_guard(shop, other_shop, make_tenant):
    theirs = other_shop.admin.get(LOCATIONS).json[0]
    url = f"{LOCATIONS}/{theirs['id']}"
    assert shop.admin.get(url).status_code == 404
    assert shop.admin.patch(url, json={"name": "mine"}).status_code == 404
    assert shop.admin.get(f"{LOCATIONS}/{uuid.uuid4()}").status_code == 404
    mine = shop.admin.get(LOCATIONS).json[0]
    cashier = shop.tenant.as_role("cashier")
    assert cashier.get(LOCATIONS).status_code == 200
    assert cashier.get(f"{LOCATIONS}/{mine['id']}").status_code == 200
    assert cashier.post(LOCATIONS, json={"code": "C", "name": "c"}).status_code == 403
    assert cashier.patch(f"{LOCATIONS}/{mine['id']}", json={"name": "c"}).status_code == 403
    routes = [("GET", LOCATIONS), ("POST", LOCATIONS), ("GET", f"{LOCATIONS}/{mine['id']}"),
              ("PATCH", f"{LOCATIONS}/{mine['id']}")]
    assert_needs_credentials(shop.admin, routes)
    assert_module_guard(make_tenant(modules=["catalog"]).as_role("owner"), "stock", routes)
