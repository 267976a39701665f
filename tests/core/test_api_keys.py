"""API keys (runbook 002 §3): rotation, revocation, admin and owner management, and what each
kind of caller may do. Every endpoint: success, 401, 403 (role), 404 (other tenant's id), 422."""

from __future__ import annotations

import uuid

import pytest

from core.testing.app import HostClient
from tests.fixtures.apikeys import CLINCORE_HOST

# --------------------------------------------------------------------------- authentication


def test_unknown_revoked_and_malformed_keys_get_the_same_401(tenant, issue_key, app):
    raw = issue_key(tenant, "admin")
    admin = tenant.anonymous().with_api_key(raw)
    victim = issue_key(tenant, "user")
    key_id = next(k["id"] for k in admin.get("/admin/api-keys").json if k["label"] == "test-user")
    assert admin.post(f"/admin/api-keys/revoke/{key_id}").status_code == 200
    answers = [tenant.anonymous().with_api_key(key).get("/cases")
               for key in (victim, "tnt_" + "A" * 43, "garbage", "tnt_short")]
    assert [a.status_code for a in answers] == [401] * 4
    assert {a.json["message"] for a in answers} == {"invalid API key"}


def test_key_of_another_tenant_on_this_host_is_403(tenant, other_tenant, issue_key):
    foreign = issue_key(other_tenant, "admin")
    response = tenant.anonymous().with_api_key(foreign).get("/admin/api-keys")
    assert response.status_code == 403


def test_on_a_platform_host_the_key_names_its_tenant(tenant, other_tenant, issue_key, client):
    raw = issue_key(tenant, "admin", label="mine")
    issue_key(other_tenant, "admin", label="theirs")
    response = HostClient(client, CLINCORE_HOST, api_key=raw).get("/api/v1/admin/api-keys")
    assert response.status_code == 200
    assert {k["label"] for k in response.json} == {"mine"}


# --------------------------------------------------------------------------- rotate


@pytest.mark.parametrize("path", ["/auth/api-keys/rotate", "/api/v1/auth/api-keys/rotate"])
@pytest.mark.parametrize("role", ["user", "admin"])
def test_rotate_replaces_the_calling_key_at_once(tenant, issue_key, path, role):
    old = issue_key(tenant, role, label="service-a")
    response = tenant.anonymous().with_api_key(old).post(path)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["api_key"] != old and body["api_key"].startswith("tnt_")
    assert (body["label"], body["role"], body["old_key_status"]) == ("service-a", role,
                                                                     "revoked")
    assert tenant.anonymous().with_api_key(old).get("/api/v1/auth/me").status_code == 401
    me = tenant.anonymous().with_api_key(body["api_key"]).get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json["id"] == body["id"]


def test_rotate_with_grace_keeps_the_old_key_until_it_expires(tenant, issue_key,
                                                              admin_connection):
    old = issue_key(tenant, "user")
    response = tenant.anonymous().with_api_key(old).post("/auth/api-keys/rotate",
                                                         json={"grace_seconds": 600})
    assert response.status_code == 201, response.json
    assert response.json["old_key_status"] == "expiring"
    assert response.json["old_key_expires_at"]
    assert tenant.anonymous().with_api_key(old).get("/api/v1/auth/me").status_code == 200
    # The grace period ends (moved into the past rather than waited for).
    admin_connection.execute(
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s",
        (response.json["old_key_id"],))
    assert tenant.anonymous().with_api_key(old).get("/api/v1/auth/me").status_code == 401
    new = response.json["api_key"]
    assert tenant.anonymous().with_api_key(new).get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize("body", [{"grace_seconds": -1}, {"grace_seconds": 10**9},
                                  {"grace_seconds": "soon"}, {"other": 1}])
def test_rotate_invalid_input_is_422_and_keeps_the_key(tenant, issue_key, body):
    old = issue_key(tenant, "user")
    response = tenant.anonymous().with_api_key(old).post("/auth/api-keys/rotate", json=body)
    assert response.status_code == 422
    assert tenant.anonymous().with_api_key(old).get("/api/v1/auth/me").status_code == 200


def test_rotate_needs_an_api_key(tenant):
    assert tenant.anonymous().post("/auth/api-keys/rotate").status_code == 401
    # A valid login of the wrong kind is authenticated but not allowed here.
    owner = tenant.as_role("owner").post("/auth/api-keys/rotate")
    assert owner.status_code == 403
    assert owner.json["message"] == "this route does not accept a user login"


# --------------------------------------------------------------------------- /admin/api-keys


@pytest.fixture
def admin_api(tenant, issue_key):
    return tenant.anonymous().with_api_key(issue_key(tenant, "admin", label="admin-key"))


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_admin_lists_keys_without_secrets(tenant, issue_key, admin_api, prefix):
    raw_user = issue_key(tenant, "user", label="app")
    response = admin_api.get(f"{prefix}/admin/api-keys")
    assert response.status_code == 200
    assert {k["label"] for k in response.json} == {"admin-key", "app"}
    for key in response.json:
        assert set(key) == {"id", "prefix", "label", "role", "status", "created_at",
                            "created_by", "last_used_at", "expires_at", "revoked_at"}
        assert key["status"] == "active"
    assert raw_user not in response.get_data(as_text=True)
    assert raw_user[:12] in {k["prefix"] for k in response.json}


def test_admin_creates_a_key_shown_once(admin_api):
    response = admin_api.post("/admin/api-keys", json={"label": "reporting", "role": "user"})
    assert response.status_code == 201, response.json
    raw = response.json["api_key"]
    user_api = HostClient(admin_api.client, admin_api.host, api_key=raw)
    assert user_api.get("/api/v1/auth/me").json["role"] == "user"
    listed = admin_api.get("/admin/api-keys").get_data(as_text=True)
    assert raw not in listed


@pytest.mark.parametrize("body", [{}, {"label": ""}, {"label": "   "}, {"label": "x" * 201},
                                  {"label": "ok", "role": "owner"}, {"label": "ok", "x": 1}])
def test_admin_create_invalid_is_422(admin_api, body):
    assert admin_api.post("/admin/api-keys", json=body).status_code == 422


def test_admin_revokes_a_key(tenant, issue_key, admin_api):
    victim = issue_key(tenant, "user", label="victim")
    key_id = next(k["id"] for k in admin_api.get("/admin/api-keys").json
                  if k["label"] == "victim")
    response = admin_api.post(f"/api/v1/admin/api-keys/revoke/{key_id}")
    assert response.status_code == 200
    assert response.json["status"] == "revoked" and response.json["revoked_at"]
    again = admin_api.post(f"/admin/api-keys/revoke/{key_id}")
    assert again.status_code == 200 and again.json["revoked_at"] == response.json["revoked_at"]
    assert tenant.anonymous().with_api_key(victim).get("/cases").status_code == 401


def test_admin_revoke_of_another_tenants_key_is_404(other_tenant, issue_key, admin_api,
                                                    app):
    foreign = issue_key(other_tenant, "user")
    foreign_admin = other_tenant.anonymous().with_api_key(issue_key(other_tenant, "admin"))
    foreign_id = next(k["id"] for k in foreign_admin.get("/admin/api-keys").json
                      if k["role"] == "user")
    assert admin_api.post(f"/admin/api-keys/revoke/{foreign_id}").status_code == 404
    assert admin_api.post(f"/admin/api-keys/revoke/{uuid.uuid4()}").status_code == 404
    assert admin_api.post("/admin/api-keys/revoke/not-a-uuid").status_code == 404
    assert other_tenant.anonymous().with_api_key(foreign).get("/api/v1/auth/me")\
        .status_code == 200


@pytest.mark.parametrize("method, path", [
    ("GET", "/admin/api-keys"), ("POST", "/admin/api-keys"),
    ("POST", "/admin/api-keys/revoke/00000000-0000-4000-8000-00000000dead"),
    ("GET", "/api/v1/admin/api-keys")])
def test_admin_paths_refuse_user_keys_and_anonymous(tenant, issue_key, method, path):
    user_api = tenant.anonymous().with_api_key(issue_key(tenant, "user"))
    response = user_api.open(method, path, json={"label": "x"})
    assert response.status_code == 403
    assert "admin" in response.json["message"]
    assert tenant.anonymous().open(method, path, json={"label": "x"}).status_code == 401
    # ClinCore's /admin/* is for API keys (owners use /api/v1/api-keys): a login is 403.
    assert tenant.as_role("owner").open(method, path, json={"label": "x"}).status_code == 403


# --------------------------------------------------------------------------- owner JWT


def test_owner_manages_keys(tenant):
    owner = tenant.as_role("owner")
    created = owner.post("/api/v1/api-keys", json={"label": "pos-sync", "role": "admin"})
    assert created.status_code == 201, created.json
    raw, key_id = created.json["api_key"], created.json["id"]
    assert created.json["created_by"].startswith("user:")
    listed = owner.get("/api/v1/api-keys")
    assert listed.status_code == 200
    assert [k["label"] for k in listed.json] == ["pos-sync"]
    assert raw not in listed.get_data(as_text=True)

    rotated = owner.post(f"/api/v1/api-keys/{key_id}/rotate", json={"grace_seconds": 0})
    assert rotated.status_code == 201
    assert tenant.anonymous().with_api_key(raw).get("/api/v1/auth/me").status_code == 401
    new_raw, new_id = rotated.json["api_key"], rotated.json["id"]
    assert owner.post(f"/api/v1/api-keys/{key_id}/rotate").status_code == 404  # already dead

    revoked = owner.post(f"/api/v1/api-keys/{new_id}/revoke")
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert tenant.anonymous().with_api_key(new_raw).get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("role", ["admin", "cashier"])
def test_owner_endpoints_refuse_other_roles(tenant, role):
    user = tenant.as_role(role)
    assert user.get("/api/v1/api-keys").status_code == 403
    assert user.post("/api/v1/api-keys", json={"label": "x"}).status_code == 403
    assert user.post(f"/api/v1/api-keys/{uuid.uuid4()}/revoke").status_code == 403


def test_owner_endpoints_need_a_login(tenant, issue_key):
    assert tenant.anonymous().get("/api/v1/api-keys").status_code == 401
    admin_key = tenant.anonymous().with_api_key(issue_key(tenant, "admin"))
    assert admin_key.get("/api/v1/api-keys").status_code == 403  # a key, not a login


def test_owner_cannot_touch_another_tenants_key(tenant, other_tenant, issue_key):
    foreign = issue_key(other_tenant, "user")
    foreign_id = other_tenant.as_role("owner").get("/api/v1/api-keys").json[0]["id"]
    owner = tenant.as_role("owner")
    assert owner.post(f"/api/v1/api-keys/{foreign_id}/revoke").status_code == 404
    assert owner.post(f"/api/v1/api-keys/{foreign_id}/rotate").status_code == 404
    assert other_tenant.anonymous().with_api_key(foreign).get("/api/v1/auth/me")\
        .status_code == 200


@pytest.mark.parametrize("body", [{"label": ""}, {"role": "user"}, {"label": "x",
                                                                   "role": "root"}])
def test_owner_create_invalid_is_422(tenant, body):
    assert tenant.as_role("owner").post("/api/v1/api-keys", json=body).status_code == 422


def test_owner_token_of_another_tenant_is_refused(tenant, other_tenant):
    token = other_tenant.token("owner")
    response = tenant.anonymous().with_token(token).get("/api/v1/api-keys")
    assert response.status_code == 403
