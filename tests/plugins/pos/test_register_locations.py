"""A register's stock location (issue 18 item 4): a soft reference, checked whenever it is set.

POS does not require stock, so ``pos_registers.location_id`` has no foreign key (the one named
soft reference of tests/core/test_schema_rules.py); the stock module says whether the id is
one of this tenant's locations. Before, a register accepted another tenant's location and any
random id.
"""

from __future__ import annotations

import uuid

REGISTERS = "/api/v1/pos/registers"
LOCATIONS = "/api/v1/stock/locations"


def _location(owner, code="VAN"):
    response = owner.post(LOCATIONS, json={"code": code, "name": f"Location {code}"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_register_takes_one_of_its_tenants_locations(pos_owner):
    van = _location(pos_owner)
    created = pos_owner.post(REGISTERS, json={"code": "R9", "name": "Van till",
                                              "location_id": van})
    assert created.status_code == 201, created.json
    assert created.json["location_id"] == van


def test_another_tenants_location_is_refused_and_nothing_is_stored(pos_owner, make_tenant):
    other = make_tenant(modules=["pos", "stock"])
    theirs = _location(other.as_role("owner"), "THEIRS")
    refused = pos_owner.post(REGISTERS, json={"code": "R9", "name": "x", "location_id": theirs})
    assert refused.status_code == 422
    assert refused.json["errors"]["location_id"] == [
        "not a stock location of this tenant"]
    assert theirs not in str(refused.json["message"])
    listed = pos_owner.get(REGISTERS).json
    assert [register["code"] for register in listed] == []


def test_a_random_id_is_refused_on_create_and_on_change(pos_owner, pos_register):
    random_id = str(uuid.uuid4())
    assert pos_owner.post(REGISTERS, json={"code": "R9", "name": "x",
                                           "location_id": random_id}).status_code == 422
    url = f"{REGISTERS}/{pos_register['id']}"
    etag = pos_owner.get(url).headers["ETag"]
    changed = pos_owner.patch(url, json={"location_id": random_id}, headers={"If-Match": etag})
    assert changed.status_code == 422
    assert changed.json["errors"]["location_id"] == [
        "not a stock location of this tenant"]
    assert pos_owner.get(url).json["location_id"] is None


def test_a_location_without_the_stock_module_is_refused(make_tenant):
    owner = make_tenant(modules=["pos"]).as_role("owner")
    refused = owner.post(REGISTERS, json={"code": "R1", "name": "x",
                                          "location_id": str(uuid.uuid4())})
    assert refused.status_code == 422
    assert refused.json["errors"]["location_id"] == [
        "the stock module is not enabled for this tenant"]
    assert owner.post(REGISTERS, json={"code": "R1", "name": "x"}).status_code == 201


def test_clearing_the_location_needs_no_stock_check(pos_owner):
    van = _location(pos_owner)
    register = pos_owner.post(REGISTERS, json={"code": "R9", "name": "x",
                                               "location_id": van}).json
    url = f"{REGISTERS}/{register['id']}"
    etag = pos_owner.get(url).headers["ETag"]
    cleared = pos_owner.patch(url, json={"location_id": None}, headers={"If-Match": etag})
    assert cleared.status_code == 200
    assert cleared.json["location_id"] is None
