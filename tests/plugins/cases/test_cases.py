"""Cases: create (Idempotency-Key), list (pagination, filters), read (ETag), update (If-Match),
on ClinCore's root paths and under /api/v1; roles, tenants and the module toggle."""

from __future__ import annotations

import json
import uuid

import pytest

from core.extensions import db
from core.rls import tenant_context
from plugins.cases.models import Case

PREFIXES = ["", "/api/v1"]


@pytest.fixture
def clinic(make_tenant):
    return make_tenant(modules=["cases"])


@pytest.fixture
def api(clinic, issue_key):
    return clinic.anonymous().with_api_key(issue_key(clinic, "user"))


def _rows(admin_connection, tenant_id) -> int:
    return admin_connection.execute("SELECT count(*) FROM cases WHERE tenant_id = %s",
                                    (tenant_id,)).fetchone()[0]


# --------------------------------------------------------------------------- create


@pytest.mark.parametrize("prefix", PREFIXES)
def test_create_case(api, prefix):
    response = api.post(f"{prefix}/cases", json={
        "title": "  Chest pain  ", "description": "since Tuesday", "patient_ref": "MRN-0042"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["title"] == "Chest pain"
    assert (body["status"], body["patient_ref"], body["closed_at"]) == ("open", "MRN-0042",
                                                                        None)
    assert body["created_by"].startswith("api_key:")
    assert response.headers["Location"] == f"{prefix}/cases/{body['id']}"
    assert api.get(response.headers["Location"]).json == body


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_tenant_users_may_create(clinic, role):
    response = clinic.as_role(role).post("/api/v1/cases", json={"title": "by a user"})
    assert response.status_code == 201
    assert response.json["created_by"].startswith("user:")


def test_admin_keys_may_create(clinic, issue_key):
    admin = clinic.anonymous().with_api_key(issue_key(clinic, "admin"))
    assert admin.post("/cases", json={"title": "t"}).status_code == 201


@pytest.mark.parametrize("body, field", [
    ({}, "title"), ({"title": ""}, "title"), ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"), ({"title": 7}, "title"),
    ({"title": "t", "status": "pending"}, "status"),
    ({"title": "t", "patient_ref": "bad ref!"}, "patient_ref"),
    ({"title": "t", "tenant_id": str(uuid.uuid4())}, "tenant_id"),
    ({"title": "t", "created_by": "someone"}, "created_by"),
])
def test_create_invalid_is_422_and_creates_nothing(api, clinic, admin_connection, body,
                                                  field):
    response = api.post("/cases", json=body)
    assert response.status_code == 422, response.json
    assert field in json.dumps(response.json["errors"])
    assert _rows(admin_connection, clinic.id) == 0


def test_malformed_json_is_not_a_500(api):
    response = api.post("/cases", data="{title", content_type="application/json")
    assert response.status_code in (400, 422)
    assert api.post("/cases", data="[]", content_type="application/json").status_code == 422


def test_cashiers_may_not_use_cases(clinic):
    cashier = clinic.as_role("cashier")
    assert cashier.post("/cases", json={"title": "t"}).status_code == 403
    assert cashier.get("/api/v1/cases").status_code == 403


def test_no_credentials_is_401(clinic):
    assert clinic.anonymous().post("/cases", json={"title": "t"}).status_code == 401
    assert clinic.anonymous().get("/api/v1/cases").status_code == 401


def test_module_disabled_is_403(make_tenant, issue_key):
    without = make_tenant()
    api = without.anonymous().with_api_key(issue_key(without, "admin"))
    for method, path in (("POST", "/cases"), ("GET", "/api/v1/cases"),
                         ("GET", f"/cases/{uuid.uuid4()}")):
        response = api.open(method, path, json={"title": "t"})
        assert response.status_code == 403
        assert response.json["message"] == "module 'cases' is not enabled for this tenant"


# --------------------------------------------------------------------------- idempotency


def test_idempotent_replay_returns_the_same_case_once(api, clinic, admin_connection):
    headers = {"Idempotency-Key": f"req-{uuid.uuid4()}"}
    first = api.post("/cases", json={"title": "once"}, headers=headers)
    again = api.post("/cases", json={"title": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    assert _rows(admin_connection, clinic.id) == 1


def test_idempotency_key_reused_with_another_body_is_422(api, clinic, admin_connection):
    headers = {"Idempotency-Key": f"req-{uuid.uuid4()}"}
    assert api.post("/cases", json={"title": "one"}, headers=headers).status_code == 201
    other = api.post("/cases", json={"title": "two"}, headers=headers)
    assert other.status_code == 422
    assert _rows(admin_connection, clinic.id) == 1


def test_idempotency_keys_are_per_tenant(api, make_tenant, issue_key, admin_connection):
    other = make_tenant(modules=["cases"])
    other_api = other.anonymous().with_api_key(issue_key(other, "user"))
    headers = {"Idempotency-Key": "shared-key"}
    mine = api.post("/cases", json={"title": "same"}, headers=headers)
    theirs = other_api.post("/cases", json={"title": "same"}, headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_failed_create_with_idempotency_key_can_be_retried(api):
    headers = {"Idempotency-Key": f"req-{uuid.uuid4()}"}
    assert api.post("/cases", json={}, headers=headers).status_code == 422
    assert api.post("/cases", json={"title": "fixed"}, headers=headers).status_code == 201


# --------------------------------------------------------------------------- list


def test_list_paginates_newest_first_and_filters(api):
    ids = [api.post("/cases", json={"title": f"c{i}", "patient_ref": f"P{i % 2}"}).json["id"]
           for i in range(5)]
    api.patch(f"/cases/{ids[0]}", json={"status": "closed"})
    page = api.get("/api/v1/cases?page=1&page_size=2")
    assert page.status_code == 200
    assert [c["id"] for c in page.json] == ids[::-1][:2]
    assert json.loads(page.headers["X-Pagination"])["total"] == 5
    page3 = api.get("/cases?page=3&page_size=2")
    assert [c["id"] for c in page3.json] == [ids[0]]
    closed = api.get("/cases?status=closed")
    assert [c["id"] for c in closed.json] == [ids[0]]
    assert len(api.get("/cases?status=open").json) == 4
    assert {c["id"] for c in api.get("/cases?patient_ref=P0").json} == {ids[0], ids[2], ids[4]}


@pytest.mark.parametrize("query", ["status=pending", "page=0", "page_size=100000",
                                   "page=abc", "patient_ref="])
def test_list_invalid_query_is_422(api, query):
    assert api.get(f"/cases?{query}").status_code == 422


def test_list_shows_only_this_tenants_cases(api, make_tenant, issue_key):
    api.post("/cases", json={"title": "mine"})
    other = make_tenant(modules=["cases"])
    other_api = other.anonymous().with_api_key(issue_key(other, "user"))
    other_api.post("/cases", json={"title": "theirs"})
    assert [c["title"] for c in api.get("/cases").json] == ["mine"]
    assert [c["title"] for c in other_api.get("/cases").json] == ["theirs"]


# --------------------------------------------------------------------------- read and update


def test_get_has_an_etag_and_honours_if_none_match(api):
    case = api.post("/cases", json={"title": "t"}).json
    response = api.get(f"/cases/{case['id']}")
    assert response.status_code == 200 and response.headers["ETag"]
    cached = api.get(f"/cases/{case['id']}",
                     headers={"If-None-Match": response.headers["ETag"]})
    assert cached.status_code == 304


def test_another_tenants_case_is_404(api, make_tenant, issue_key):
    other = make_tenant(modules=["cases"])
    other_api = other.anonymous().with_api_key(issue_key(other, "admin"))
    foreign = other_api.post("/cases", json={"title": "secret"}).json["id"]
    assert api.get(f"/cases/{foreign}").status_code == 404
    assert api.patch(f"/api/v1/cases/{foreign}", json={"title": "x"}).status_code == 404
    assert api.get(f"/cases/{uuid.uuid4()}").status_code == 404
    assert api.get("/cases/not-a-uuid").status_code == 404
    assert other_api.get(f"/cases/{foreign}").json["title"] == "secret"


def test_close_and_reopen(api):
    case_id = api.post("/cases", json={"title": "t"}).json["id"]
    closed = api.patch(f"/cases/{case_id}", json={"status": "closed"})
    assert closed.status_code == 200
    assert closed.json["status"] == "closed" and closed.json["closed_at"]
    reopened = api.patch(f"/api/v1/cases/{case_id}", json={"status": "open",
                                                           "title": " renamed "})
    assert (reopened.json["status"], reopened.json["closed_at"],
            reopened.json["title"]) == ("open", None, "renamed")


def test_update_with_if_match(api):
    case_id = api.post("/cases", json={"title": "t"}).json["id"]
    etag = api.get(f"/cases/{case_id}").headers["ETag"]
    ok = api.patch(f"/cases/{case_id}", json={"description": "d"}, headers={"If-Match": etag})
    assert ok.status_code == 200
    assert ok.headers["ETag"] != etag
    stale = api.patch(f"/cases/{case_id}", json={"description": "lost update"},
                      headers={"If-Match": etag})
    assert stale.status_code == 412
    assert api.get(f"/cases/{case_id}").json["description"] == "d"


@pytest.mark.parametrize("body", [{}, {"status": "pending"}, {"title": ""},
                                  {"id": str(uuid.uuid4())}, {"patient_ref": "no spaces"}])
def test_update_invalid_is_422(api, body):
    case_id = api.post("/cases", json={"title": "t"}).json["id"]
    assert api.patch(f"/cases/{case_id}", json=body).status_code == 422


def test_update_roles(clinic, api):
    case_id = api.post("/cases", json={"title": "t"}).json["id"]
    assert clinic.as_role("cashier").patch(f"/cases/{case_id}",
                                           json={"title": "x"}).status_code == 403
    assert clinic.anonymous().patch(f"/cases/{case_id}", json={"title": "x"}).status_code == 401
    assert clinic.as_role("owner").patch(f"/cases/{case_id}",
                                         json={"title": "x"}).status_code == 200


# --------------------------------------------------------------------------- isolation


def test_rls_hides_other_tenants_rows_from_the_app_role(app, api, make_tenant, issue_key):
    api.post("/cases", json={"title": "mine"})
    other = make_tenant(modules=["cases"])
    other.anonymous().with_api_key(issue_key(other, "user")).post("/cases",
                                                                  json={"title": "theirs"})
    with app.app_context():
        # No WHERE on tenant_id: only the policy separates the tenants here.
        with tenant_context(other.id):
            assert [c.title for c in db.session.query(Case).all()] == ["theirs"]
        with tenant_context(None):
            assert db.session.query(Case).count() == 0
        db.session.rollback()
