"""The platform API over HTTP: tenants, their modules, the module registry, templates, and the
platform guard (PLATFORM_HOSTS only, platform credentials only)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from core import create_app
from core.app_state import app_state
from core.extensions import db
from core.guards import GUARD_PLATFORM
from core.testing.app import BOOTSTRAP_TOKEN, PLATFORM_HOST, HostClient, app_config
from core.testing.tenants import PASSWORD

TENANTS = "/api/v1/platform/tenants"
MODULES = "/api/v1/platform/modules"
TEMPLATES = "/api/v1/platform/templates"


def _slug(prefix: str = "p") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _create(platform_admin, slug=None, **extra):
    slug = slug or _slug()
    body = {"slug": slug, "name": f"Tenant {slug}",
            "owner": {"email": f"owner@{slug}.test", "password": PASSWORD}, **extra}
    response = platform_admin.post(TENANTS, json=body)
    assert response.status_code == 201, response.json
    return response.json


def _tenant_chosen(platform_admin, keys):
    """``keys`` without platform-managed modules (billing), which every new tenant gets."""
    managed = {m["key"] for m in platform_admin.get(MODULES).json if not m["tenant_toggleable"]}
    return [key for key in keys if key not in managed]


def _tenant_host(client, slug):
    return HostClient(client, f"{slug}.tenantry.test")


def _login(client, slug, email=None):
    response = _tenant_host(client, slug).post(
        "/api/v1/auth/login", json={"email": email or f"owner@{slug}.test", "password": PASSWORD})
    return response


# --------------------------------------------------------------------------- the guard


def _platform_requests(app, tenant_id: str | None = None):
    """(method, path, endpoint) for every API route of a platform-guarded blueprint (core's and
    plugins'), with sample path values. The platform console's pages (/platform/...) are
    tested in tests/console."""
    guards = app_state(app).guards
    samples = {"uuid": tenant_id or str(uuid.uuid4()), "int": "1"}
    for rule in app.url_map.iter_rules():
        if guards.get(rule.endpoint.rpartition(".")[0]) != GUARD_PLATFORM or \
                not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
                      lambda m: samples.get(m.group(1) or "", "sample"), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path, rule.endpoint


def test_the_platform_api_has_the_promised_routes(app):
    routes = {(method, path) for method, path, _ in _platform_requests(app, "<id>")}
    for expected in [("POST", TENANTS), ("GET", TENANTS), ("GET", TENANTS + "/<id>"),
                     ("PATCH", TENANTS + "/<id>"), ("POST", TENANTS + "/<id>/activate"),
                     ("POST", TENANTS + "/<id>/deactivate"),
                     ("GET", TENANTS + "/<id>/modules"),
                     ("PUT", TENANTS + "/<id>/modules/sample"),
                     ("DELETE", TENANTS + "/<id>/modules/sample"),
                     ("POST", TENANTS + "/<id>/apply-template/sample"),
                     ("GET", MODULES), ("POST", MODULES), ("GET", MODULES + "/sample"),
                     ("PATCH", MODULES + "/sample"), ("GET", TEMPLATES), ("POST", TEMPLATES),
                     ("GET", TEMPLATES + "/sample"), ("PATCH", TEMPLATES + "/sample"),
                     ("DELETE", TEMPLATES + "/sample")]:
        assert expected in routes


def test_every_platform_route_is_404_off_the_platform_hosts(app, client, make_tenant):
    tenant = make_tenant()
    hosts = [tenant.host, "nowhere.example.com", "www.tenantry.test"]
    failures = []
    for method, path, _endpoint in _platform_requests(app):
        for host in hosts:
            response = HostClient(client, host).open(method, path, json={})
            if response.status_code != 404:
                failures.append((host, method, path, response.status_code))
    assert failures == []


def test_every_platform_route_needs_platform_credentials(app, platform, make_tenant):
    owner_token = make_tenant().token("owner")
    checked = 0
    for method, path, endpoint in _platform_requests(app):
        if endpoint == "platform.PlatformLogin":
            continue
        for client in (platform, platform.with_token(owner_token),
                       platform.with_token("not-a-token"),
                       platform.with_token(BOOTSTRAP_TOKEN + "x")):
            # An empty body would be invalid: 401 must come before validation (422).
            response = client.open(method, path, json={})
            assert response.status_code == 401, (method, path, response.json)
            assert response.json["code"] == 401
            assert "WWW-Authenticate" in response.headers
        checked += 1
    assert checked >= 15


def test_platform_login_answers_only_on_platform_hosts(client, make_tenant):
    tenant = make_tenant()
    body = {"email": "root@tenantry.test", "password": "platform-password-1"}
    assert HostClient(client, tenant.host).post(
        "/api/v1/platform/auth/login", json=body).status_code == 404
    response = HostClient(client, PLATFORM_HOST.upper() + ":8443").post(
        "/api/v1/platform/auth/login", json=body)
    assert response.status_code == 200
    assert response.json["token_type"] == "bearer"


def test_platform_login_refuses_wrong_password_and_bad_input(platform):
    url = "/api/v1/platform/auth/login"
    wrong = platform.post(url, json={"email": "root@tenantry.test", "password": "nope-nope"})
    assert wrong.status_code == 401
    unknown = platform.post(url, json={"email": "nobody@tenantry.test", "password": "nope-nope"})
    assert unknown.status_code == 401
    assert unknown.json["message"] == wrong.json["message"]  # no hint which e-mails exist
    invalid = platform.post(url, json={"email": "not-an-email"})
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]["json"]) == {"email", "password"}


def test_bootstrap_token_is_accepted_as_platform_bearer(platform):
    response = platform.with_token(BOOTSTRAP_TOKEN).get(TENANTS)
    assert response.status_code == 200
    created = platform.with_token(BOOTSTRAP_TOKEN).post(TENANTS, json={
        "slug": _slug("bt"), "owner": {"email": "o@bt.test", "password": PASSWORD}})
    assert created.status_code == 201, created.json


def test_bootstrap_token_is_refused_once_unset(database, app):
    other = create_app(app_config(database, BOOTSTRAP_TOKEN=None))
    other.config["BOOTSTRAP_TOKEN"] = None  # whatever the environment says
    try:
        platform = HostClient(other.test_client(), PLATFORM_HOST)
        assert platform.with_token(BOOTSTRAP_TOKEN).get(TENANTS).status_code == 401
    finally:
        with other.app_context():
            db.engine.dispose()


# --------------------------------------------------------------------------- tenants


def test_create_tenant_with_owner_modules_and_read_it(platform_admin, client):
    slug = _slug()
    created = _create(platform_admin, slug=slug.upper(), modules=["users"])
    assert created["slug"] == slug  # host names are case-insensitive, so are slugs
    assert created["status"] == "active"
    assert created["host"] == f"{slug}.tenantry.test"
    assert created["owner"]["email"] == f"owner@{slug}.test"
    assert _tenant_chosen(platform_admin, created["modules"]) == ["users"]
    assert "password" not in json.dumps(created)

    read = platform_admin.get(f"{TENANTS}/{created['id']}")
    assert read.status_code == 200
    assert {k: read.json[k] for k in ("id", "slug", "name", "status")} == {
        k: created[k] for k in ("id", "slug", "name", "status")}

    token = _login(client, slug)
    assert token.status_code == 200
    me = _tenant_host(client, slug).with_token(token.json["access_token"]).get("/api/v1/auth/me")
    assert me.json["role"] == "owner" and me.json["tenant_id"] == created["id"]


def test_create_tenant_name_defaults_to_slug(platform_admin):
    slug = _slug()
    response = platform_admin.post(TENANTS, json={
        "slug": slug, "owner": {"email": f"o@{slug}.test", "password": PASSWORD}})
    assert response.status_code == 201
    assert response.json["name"] == slug


@pytest.mark.parametrize("body, field", [
    ({}, "slug"),
    ({"slug": "ok-slug"}, "owner"),
    ({"slug": "-bad-", "owner": {"email": "a@b.test", "password": PASSWORD}}, "slug"),
    ({"slug": "has space", "owner": {"email": "a@b.test", "password": PASSWORD}}, "slug"),
    ({"slug": "x" * 64, "owner": {"email": "a@b.test", "password": PASSWORD}}, "slug"),
    ({"slug": "www", "owner": {"email": "a@b.test", "password": PASSWORD}}, "slug"),
    ({"slug": "ok-slug", "owner": {"email": "nope", "password": PASSWORD}}, "owner"),
    ({"slug": "ok-slug", "owner": {"email": "a@b.test", "password": "short"}}, "owner"),
    ({"slug": "ok-slug", "owner": {"email": "a@b.test", "password": PASSWORD},
      "modules": ["no-such-module"]}, "modules"),
    ({"slug": "ok-slug", "owner": {"email": "a@b.test", "password": PASSWORD},
      "modules": {"users": {"no_such_feature": 1}}}, "modules"),
    ({"slug": "ok-slug", "owner": {"email": "a@b.test", "password": PASSWORD},
      "modules": "users"}, "modules"),
    ({"slug": "ok-slug", "owner": {"email": "a@b.test", "password": PASSWORD},
      "template": "no-such-template"}, "template"),
    ({"slug": 42, "owner": {"email": "a@b.test", "password": PASSWORD}}, "slug"),
])
def test_create_tenant_refuses_invalid_input_with_field_errors(platform_admin, body, field):
    fresh = body.get("slug") == "ok-slug"
    if fresh:
        body = {**body, "slug": _slug()}
    response = platform_admin.post(TENANTS, json=body)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors.get("json", errors)
    if fresh:
        listed = platform_admin.get(TENANTS, query_string={"q": body["slug"]})
        assert listed.json == []  # nothing was half-created


def test_create_tenant_refuses_a_duplicate_slug(platform_admin):
    created = _create(platform_admin)
    again = platform_admin.post(TENANTS, json={
        "slug": created["slug"], "owner": {"email": "x@y.test", "password": PASSWORD}})
    assert again.status_code == 409
    assert created["slug"] in again.json["message"]


def test_create_tenant_with_a_template(platform_admin, client):
    key = _slug("tpl")
    assert platform_admin.post(TEMPLATES, json={"key": key, "name": "With users",
                                                "modules": ["users"]}).status_code == 201
    created = _create(platform_admin, template=key)
    assert _tenant_chosen(platform_admin, created["modules"]) == ["users"]


def test_list_tenants_is_paginated_and_filtered(platform_admin):
    prefix = _slug("ls")
    ids = [_create(platform_admin, slug=f"{prefix}-{n}")["id"] for n in range(3)]
    everything = platform_admin.get(TENANTS, query_string={"q": prefix})
    assert [t["slug"] for t in everything.json] == [f"{prefix}-{n}" for n in range(3)]

    page = platform_admin.get(TENANTS, query_string={"q": prefix, "page_size": 2, "page": 2})
    assert page.status_code == 200
    assert [t["slug"] for t in page.json] == [f"{prefix}-2"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3

    assert platform_admin.post(f"{TENANTS}/{ids[1]}/deactivate").status_code == 200
    inactive = platform_admin.get(TENANTS, query_string={"q": prefix, "status": "inactive"})
    assert [t["id"] for t in inactive.json] == [ids[1]]
    by_name = platform_admin.get(TENANTS, query_string={"q": f"TENANT {prefix}-0"})
    assert [t["id"] for t in by_name.json] == [ids[0]]


def test_list_tenants_search_treats_wildcards_as_text(platform_admin):
    _create(platform_admin)
    assert platform_admin.get(TENANTS, query_string={"q": "%"}).json == []
    assert platform_admin.get(TENANTS, query_string={"q": "_"}).json == []


@pytest.mark.parametrize("query", [{"status": "sleeping"}, {"page_size": 100000},
                                   {"page": 0}, {"page_size": "many"}, {"q": ""}])
def test_list_tenants_refuses_invalid_queries(platform_admin, query):
    response = platform_admin.get(TENANTS, query_string=query)
    assert response.status_code == 422
    assert "errors" in response.json


def test_unknown_tenant_ids_are_404(platform_admin):
    unknown = uuid.uuid4()
    for method, path in [("GET", f"{TENANTS}/{unknown}"), ("PATCH", f"{TENANTS}/{unknown}"),
                         ("POST", f"{TENANTS}/{unknown}/activate"),
                         ("POST", f"{TENANTS}/{unknown}/deactivate"),
                         ("GET", f"{TENANTS}/{unknown}/modules"),
                         ("PUT", f"{TENANTS}/{unknown}/modules/users"),
                         ("DELETE", f"{TENANTS}/{unknown}/modules/users"),
                         ("GET", f"{TENANTS}/not-a-uuid")]:
        response = platform_admin.open(method, path, json={})
        assert response.status_code == 404, (method, path, response.json)


def test_patch_tenant_name_and_status_with_reason(platform_admin, client):
    created = _create(platform_admin)
    url = f"{TENANTS}/{created['id']}"
    renamed = platform_admin.patch(url, json={"name": "Renamed"})
    assert renamed.status_code == 200 and renamed.json["name"] == "Renamed"

    failed = platform_admin.patch(url, json={"status": "failed",
                                             "status_reason": "disk quota exceeded"})
    assert failed.json["status"] == "failed"
    answer = _login(client, created["slug"])
    assert answer.status_code == 503
    assert "disk quota exceeded" in answer.json["message"]

    active = platform_admin.patch(url, json={"status": "active"})
    assert active.json["status"] == "active" and active.json["status_reason"] is None
    assert _login(client, created["slug"]).status_code == 200


@pytest.mark.parametrize("body", [{"status": "gone"}, {"name": ""}, {"name": 5},
                                  {"slug": "renamed"}, {"status_reason": "x" * 2001}])
def test_patch_tenant_refuses_invalid_input(platform_admin, body):
    created = _create(platform_admin)
    response = platform_admin.patch(f"{TENANTS}/{created['id']}", json=body)
    assert response.status_code == 422
    assert response.json["errors"]["json"]


def test_patch_tenant_honours_if_match(platform_admin):
    created = _create(platform_admin)
    url = f"{TENANTS}/{created['id']}"
    etag = platform_admin.get(url).headers["ETag"]
    stale = platform_admin.patch(url, json={"name": "B"}, headers={"If-Match": '"stale"'})
    assert stale.status_code == 412
    fresh = platform_admin.patch(url, json={"name": "B"}, headers={"If-Match": etag})
    assert fresh.status_code == 200
    again = platform_admin.patch(url, json={"name": "C"}, headers={"If-Match": etag})
    assert again.status_code == 412  # the ETag changed with the name


def test_deactivate_and_activate(platform_admin, client):
    created = _create(platform_admin)
    token = _login(client, created["slug"]).json["access_token"]
    tenant_client = _tenant_host(client, created["slug"])

    off = platform_admin.post(f"{TENANTS}/{created['id']}/deactivate")
    assert off.status_code == 200 and off.json["status"] == "inactive"
    assert _login(client, created["slug"]).status_code == 403
    assert tenant_client.with_token(token).get("/api/v1/auth/me").status_code == 403

    on = platform_admin.post(f"{TENANTS}/{created['id']}/activate")
    assert on.status_code == 200 and on.json["status"] == "active"
    assert tenant_client.with_token(token).get("/api/v1/auth/me").status_code == 200


# --------------------------------------------------------------------------- tenant modules


def test_platform_toggles_a_tenants_module(platform_admin, client):
    created = _create(platform_admin)
    url = f"{TENANTS}/{created['id']}/modules"
    before = platform_admin.get(url)
    assert before.status_code == 200
    users = next(m for m in before.json["modules"] if m["key"] == "users")
    assert users["enabled"] is False  # no toggle row: disabled

    owner = _tenant_host(client, created["slug"]).with_token(
        _login(client, created["slug"]).json["access_token"])
    assert owner.get("/api/v1/users").status_code == 403

    enabled = platform_admin.put(f"{url}/users")
    assert enabled.status_code == 200
    assert enabled.json["changes"] == ["enabled users"]
    assert owner.get("/api/v1/users").status_code == 200
    assert platform_admin.put(f"{url}/users").json["changes"] == []  # idempotent

    disabled = platform_admin.delete(f"{url}/users")
    assert disabled.json["changes"] == ["disabled users"]
    assert owner.get("/api/v1/users").status_code == 403
    assert platform_admin.delete(f"{url}/users").json["changes"] == []


def test_platform_module_toggle_errors(platform_admin):
    created = _create(platform_admin)
    url = f"{TENANTS}/{created['id']}/modules"
    assert platform_admin.put(f"{url}/no-such-module").status_code == 404
    assert platform_admin.delete(f"{url}/no-such-module").status_code == 404
    bad = platform_admin.put(f"{url}/users", json={"features": {"nope": True}})
    assert bad.status_code == 422
    assert "nope" in bad.json["errors"]["features"]
    wrong_type = platform_admin.put(f"{url}/users", json={"features": ["x"]})
    assert wrong_type.status_code == 422


# --------------------------------------------------------------------------- modules


def test_list_and_read_modules(platform_admin):
    listed = platform_admin.get(MODULES)
    assert listed.status_code == 200
    users = next(m for m in listed.json if m["key"] == "users")
    assert users["available"] is True and users["installed"] is True
    assert users["installed_version"] == users["version"] == "1.0.0"
    assert users["requires"] == [] and users["tenant_toggleable"] is True
    assert platform_admin.get(f"{MODULES}/users").json == users
    assert platform_admin.get(f"{MODULES}/no-such-module").status_code == 404


def test_module_metadata_needs_a_plugin(platform_admin):
    response = platform_admin.post(MODULES, json={"key": "no-such-module", "name": "Ghost"})
    assert response.status_code == 422
    assert "key" in response.json["errors"]
    patch = platform_admin.patch(f"{MODULES}/no-such-module", json={"name": "Ghost"})
    assert patch.status_code == 422
    assert platform_admin.get(f"{MODULES}/no-such-module").status_code == 404


def test_module_metadata_conflicts_and_validation(platform_admin):
    assert platform_admin.post(MODULES, json={"key": "users", "name": "Users"}).status_code == 409
    invalid = platform_admin.post(MODULES, json={"key": "Bad Key!", "name": ""})
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]["json"]) == {"key", "name"}
    assert platform_admin.patch(f"{MODULES}/users", json={"name": ""}).status_code == 422


def test_rename_a_module(platform_admin, make_tenant):
    original = platform_admin.get(f"{MODULES}/users").json
    try:
        renamed = platform_admin.patch(f"{MODULES}/users", json={
            "name": "People", "description": "Who works here"})
        assert renamed.status_code == 200
        assert (renamed.json["name"], renamed.json["description"]) == ("People", "Who works here")
        assert renamed.json["installed"] is True
        settings = make_tenant().as_role("owner").get("/api/v1/tenant/settings")
        users = next(m for m in settings.json["modules"] if m["key"] == "users")
        assert (users["name"], users["description"]) == ("People", "Who works here")
        assert platform_admin.get(f"{MODULES}/users").json["name"] == "People"
    finally:
        platform_admin.patch(f"{MODULES}/users", json={
            "name": original["name"], "description": original["description"]})


# --------------------------------------------------------------------------- templates


def test_template_crud(platform_admin):
    key = _slug("tpl")
    created = platform_admin.post(TEMPLATES, json={
        "key": key, "name": "Shop", "description": "A small shop", "modules": {"users": {}}})
    assert created.status_code == 201
    assert created.json["modules"] == {"users": {}}
    assert created.json["id"]

    listed = platform_admin.get(TEMPLATES, query_string={"page_size": 100})
    assert key in [t["key"] for t in listed.json]
    assert "X-Pagination" in listed.headers

    url = f"{TEMPLATES}/{key}"
    assert platform_admin.get(url).json == created.json
    etag = platform_admin.get(url).headers["ETag"]
    assert platform_admin.patch(url, json={"name": "X"},
                                headers={"If-Match": '"old"'}).status_code == 412
    updated = platform_admin.patch(url, json={"name": "Bigger shop", "modules": []},
                                   headers={"If-Match": etag})
    assert updated.status_code == 200
    assert (updated.json["name"], updated.json["modules"]) == ("Bigger shop", {})
    assert updated.json["description"] == "A small shop"

    assert platform_admin.delete(url).status_code == 204
    assert platform_admin.get(url).status_code == 404
    assert platform_admin.delete(url).status_code == 404
    assert platform_admin.patch(url, json={"name": "Y"}).status_code == 404


def test_template_duplicate_key_is_409(platform_admin):
    key = _slug("tpl")
    assert platform_admin.post(TEMPLATES, json={"key": key, "name": "A"}).status_code == 201
    again = platform_admin.post(TEMPLATES, json={"key": key, "name": "B"})
    assert again.status_code == 409
    assert key in again.json["message"]


@pytest.mark.parametrize("body, field", [
    ({"name": "No key"}, "key"),
    ({"key": "Bad Key", "name": "x"}, "key"),
    ({"key": "ok"}, "name"),
    ({"key": "ok", "name": "x", "modules": {"no-such-module": {}}}, "modules"),
    ({"key": "ok", "name": "x", "modules": {"users": {"nope": 1}}}, "modules"),
    ({"key": "ok", "name": "x", "modules": {"users": 5}}, "modules"),
    ({"key": "ok", "name": "x", "modules": 5}, "modules"),
])
def test_template_refuses_invalid_input(platform_admin, body, field):
    if body.get("key") == "ok":
        body = {**body, "key": _slug("tpl")}
    response = platform_admin.post(TEMPLATES, json=body)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors.get("json", errors)


def test_template_update_validates_modules(platform_admin):
    key = _slug("tpl")
    platform_admin.post(TEMPLATES, json={"key": key, "name": "A"})
    response = platform_admin.patch(f"{TEMPLATES}/{key}", json={"modules": ["no-such-module"]})
    assert response.status_code == 422
    assert platform_admin.get(f"{TEMPLATES}/{key}").json["modules"] == {}


def test_apply_template_is_idempotent(platform_admin, client):
    created = _create(platform_admin)
    key = _slug("tpl")
    platform_admin.post(TEMPLATES, json={"key": key, "name": "Users", "modules": ["users"]})
    url = f"{TENANTS}/{created['id']}/apply-template/{key}"

    first = platform_admin.post(url)
    assert first.status_code == 200, first.json
    assert first.json["changes"] == ["enabled users"]
    assert first.json["template"] == key
    assert next(m for m in first.json["modules"] if m["key"] == "users")["enabled"] is True

    second = platform_admin.post(url)
    assert second.status_code == 200 and second.json["changes"] == []

    owner = _tenant_host(client, created["slug"]).with_token(
        _login(client, created["slug"]).json["access_token"])
    assert owner.get("/api/v1/users").status_code == 200


def test_apply_template_unknown_ids(platform_admin):
    created = _create(platform_admin)
    key = _slug("tpl")
    platform_admin.post(TEMPLATES, json={"key": key, "name": "Empty"})
    assert platform_admin.post(
        f"{TENANTS}/{created['id']}/apply-template/no-such-template").status_code == 404
    assert platform_admin.post(
        f"{TENANTS}/{uuid.uuid4()}/apply-template/{key}").status_code == 404


def test_the_platform_api_is_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    create = spec["paths"]["/api/v1/platform/tenants"]["post"]
    assert create["security"] == [{"platformBearer": []}]
    assert {"201", "401", "409", "422"} <= set(create["responses"])
    modules = spec["components"]["schemas"]["TenantCreate"]["properties"]["modules"]
    assert [option["type"] for option in modules["oneOf"]] == ["array", "object"]
    assert "password" not in spec["components"]["schemas"]["Tenant"]["properties"]


def test_module_list_is_paginated(platform_admin):
    everything = platform_admin.get(MODULES)
    total = json.loads(everything.headers["X-Pagination"])["total"]
    assert total == len(everything.json) >= 1
    second = platform_admin.get(MODULES, query_string={"page": 2, "page_size": 1})
    if total > 1:
        assert second.json == [everything.json[1]]
    assert platform_admin.get(MODULES, query_string={"page_size": 101}).status_code == 422
