"""Module toggles: a missing toggle is disabled, enabling pulls requirements in (and says so),
disabling a required module is refused, platform-managed modules and modules whose migrations
are not applied are refused to tenant owners, and a disabled module's routes answer 403 before
their handler runs.

Small test-only plugins with requirements are passed through ``EXTRA_PLUGINS`` to an app on a
database of its own (so that their registry rows stay out of the shared one). ``tgl_pending``
is known to the serving app but was never migrated: "available", not "installed".
"""

from __future__ import annotations

import uuid

import pytest
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from core import create_app
from core.blueprint import Blueprint
from core.extensions import db
from core.models import TenantModule
from core.plugins import BUILTIN_PLUGINS, Module, hookimpl
from core.rls import tenant_context
from core.tenancy import feature
from core.tenant_lifecycle import create_tenant
from core.testing.app import (
    PLATFORM_EMAIL,
    PLATFORM_HOST,
    PLATFORM_PASSWORD,
    HostClient,
    app_config,
)
from core.testing.database import _from_admin_url
from core.testing.tenants import PASSWORD, TenantHandle

SETTINGS = "/api/v1/tenant/settings"
HANDLER_CALLS: list[str] = []


class PingSchema(Schema):
    module = fields.String()
    greeting = fields.String(allow_none=True)


def _module_blueprint(key: str) -> Blueprint:
    blp = Blueprint(key, __name__, url_prefix=f"/api/v1/{key}")

    @blp.route("/ping")
    class Ping(MethodView):
        @blp.response(200, PingSchema)
        @blp.requires_roles("owner", "admin", "cashier")
        def get(self):
            """Answer, and record that the handler ran."""
            HANDLER_CALLS.append(key)
            return {"module": key, "greeting": feature(key, "greeting")}

    return blp


class _TestPlugin:
    """A plugin object providing one module and one blueprint."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.blueprint = _module_blueprint(module.key)

    @hookimpl
    def tenantry_module(self):
        return self.module

    @hookimpl
    def tenantry_register_blueprints(self, app, api):
        return [self.blueprint]


def _plugin(key, **kwargs):
    return (key, _TestPlugin(Module(key=key, name=key.title(), version="0.1.0", **kwargs)))


INSTALLED = [
    _plugin("tgl_base", features={"greeting": "hello", "limit": 3}),
    _plugin("tgl_dep", requires=("tgl_base",)),
    _plugin("tgl_top", requires=("tgl_dep",)),
    _plugin("tgl_managed", tenant_toggleable=False),
    _plugin("tgl_needs_managed", requires=("tgl_managed",)),
]
PENDING = _plugin("tgl_pending", requires=("tgl_base",))
# Only core, the users module and the test modules: the app stays small and quick to migrate.
OTHER_BUILTINS = [path.rsplit(".", 1)[-1] for path in BUILTIN_PLUGINS if path != "plugins.users"]


@pytest.fixture(scope="module")
def toggle_app(server_admin_url):
    from core.schema_migrations import migrate_all

    database = _from_admin_url(server_admin_url)
    migrator = create_app(app_config(database, EXTRA_PLUGINS=INSTALLED,
                                     DISABLED_PLUGINS=OTHER_BUILTINS))
    with migrator.app_context():
        migrate_all(echo=lambda _line: None)
        db.engine.dispose()
    application = create_app(app_config(database, EXTRA_PLUGINS=[*INSTALLED, PENDING],
                                        DISABLED_PLUGINS=OTHER_BUILTINS))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def toggle_client(toggle_app):
    return toggle_app.test_client()


@pytest.fixture
def toggle_tenant(toggle_app, toggle_client):
    slug = f"g{uuid.uuid4().hex[:10]}"
    with toggle_app.app_context():
        tenant = create_tenant(slug=slug, name=slug, owner_email=f"owner@{slug}.test",
                               owner_password=PASSWORD)
        db.session.commit()
        tenant_id = tenant.id
    return TenantHandle(tenant_id, slug, toggle_app, toggle_client, {"owner": f"owner@{slug}.test"})


@pytest.fixture
def toggle_platform(toggle_client):
    platform = HostClient(toggle_client, PLATFORM_HOST)
    response = platform.post("/api/v1/platform/auth/login",
                             json={"email": PLATFORM_EMAIL, "password": PLATFORM_PASSWORD})
    assert response.status_code == 200, response.json
    return platform.with_token(response.json["access_token"])


def _states(owner) -> dict[str, bool]:
    response = owner.get(SETTINGS)
    assert response.status_code == 200, response.json
    return {m["key"]: m["enabled"] for m in response.json["modules"]}


def _patch(owner, modules):
    return owner.patch(SETTINGS, json={"modules": modules})


# --------------------------------------------------------------------------- missing = disabled


def test_missing_toggle_means_disabled_and_the_guard_runs_before_the_handler(toggle_tenant):
    owner = toggle_tenant.as_role("owner")
    with toggle_tenant.app.app_context(), tenant_context(toggle_tenant.id):
        rows = db.session.execute(select(TenantModule.module_key)).scalars().all()
    assert "tgl_base" not in rows  # no toggle row at all
    assert _states(owner)["tgl_base"] is False

    HANDLER_CALLS.clear()
    response = owner.get("/api/v1/tgl_base/ping")
    assert response.status_code == 403
    assert response.json == {"code": 403, "status": "Forbidden",
                             "message": "module 'tgl_base' is not enabled for this tenant"}
    assert HANDLER_CALLS == []


def test_disabled_module_checks_credentials_first(toggle_tenant):
    HANDLER_CALLS.clear()
    assert toggle_tenant.anonymous().get("/api/v1/tgl_base/ping").status_code == 401
    cashier = toggle_tenant.as_role("cashier")
    response = cashier.get("/api/v1/tgl_base/ping")
    assert response.status_code == 403
    assert "not enabled" in response.json["message"]
    assert HANDLER_CALLS == []


# --------------------------------------------------------------------------- enable, disable


def test_enabling_enables_requirements_and_says_so(toggle_tenant):
    owner = toggle_tenant.as_role("owner")
    response = _patch(owner, {"tgl_top": {"enabled": True}})
    assert response.status_code == 200, response.json
    assert response.json["changes"] == ["enabled tgl_base (required by tgl_top)",
                                        "enabled tgl_dep (required by tgl_top)",
                                        "enabled tgl_top"]
    states = {m["key"]: m["enabled"] for m in response.json["modules"]}
    assert states["tgl_base"] and states["tgl_dep"] and states["tgl_top"]

    HANDLER_CALLS.clear()
    for key in ("tgl_base", "tgl_dep", "tgl_top"):
        ping = owner.get(f"/api/v1/{key}/ping")
        assert ping.status_code == 200 and ping.json["module"] == key
    assert HANDLER_CALLS == ["tgl_base", "tgl_dep", "tgl_top"]
    assert _patch(owner, {"tgl_top": {"enabled": True}}).json["changes"] == []


def test_disabling_a_required_module_is_409_naming_the_dependent(toggle_tenant):
    owner = toggle_tenant.as_role("owner")
    _patch(owner, {"tgl_dep": {"enabled": True}})
    refused = _patch(owner, {"tgl_base": {"enabled": False}})
    assert refused.status_code == 409
    assert "'tgl_dep'" in refused.json["message"]
    assert refused.json["errors"] == {"required_by": ["tgl_dep"]}
    assert _states(owner)["tgl_base"] is True

    # Both in one request: dependents are disabled first, so this is allowed.
    both = _patch(owner, {"tgl_base": {"enabled": False}, "tgl_dep": {"enabled": False}})
    assert both.status_code == 200
    assert both.json["changes"] == ["disabled tgl_dep", "disabled tgl_base"]
    assert owner.get("/api/v1/tgl_dep/ping").status_code == 403


def test_disable_then_enable_again_keeps_feature_values(toggle_tenant):
    owner = toggle_tenant.as_role("owner")
    assert _patch(owner, {"tgl_base": {"enabled": True, "features": {"greeting": "hey"}}}
                  ).status_code == 200
    assert owner.get("/api/v1/tgl_base/ping").json["greeting"] == "hey"
    _patch(owner, {"tgl_base": {"enabled": False}})
    assert owner.get("/api/v1/tgl_base/ping").status_code == 403
    _patch(owner, {"tgl_base": {"enabled": True}})
    assert owner.get("/api/v1/tgl_base/ping").json["greeting"] == "hey"
    base = next(m for m in owner.get(SETTINGS).json["modules"] if m["key"] == "tgl_base")
    assert base["features"] == {"greeting": "hey", "limit": 3}  # defaults fill the rest


# --------------------------------------------------------------------------- refusals


def test_platform_managed_module_is_403_for_the_owner(toggle_tenant, toggle_platform):
    owner = toggle_tenant.as_role("owner")
    assert _states(owner)["tgl_managed"] is True  # every new tenant gets platform modules
    for change in ({"enabled": False}, {"enabled": True}, {"features": {"x": 1}}):
        response = _patch(owner, {"tgl_managed": change})
        assert response.status_code == 403, change
        assert "platform" in response.json["message"]

    url = f"/api/v1/platform/tenants/{toggle_tenant.id}/modules/tgl_managed"
    off = toggle_platform.delete(url)
    assert off.status_code == 200 and off.json["changes"] == ["disabled tgl_managed"]
    assert owner.get("/api/v1/tgl_managed/ping").status_code == 403
    on = toggle_platform.put(url)
    assert on.status_code == 200 and on.json["changes"] == ["enabled tgl_managed"]
    assert owner.get("/api/v1/tgl_managed/ping").status_code == 200


def test_requirement_only_the_platform_can_enable(toggle_tenant, toggle_platform):
    owner = toggle_tenant.as_role("owner")
    base = f"/api/v1/platform/tenants/{toggle_tenant.id}/modules"
    assert toggle_platform.delete(f"{base}/tgl_managed").status_code == 200
    refused = _patch(owner, {"tgl_needs_managed": {"enabled": True}})
    assert refused.status_code == 403
    assert "'tgl_managed'" in refused.json["message"]
    assert _states(owner)["tgl_needs_managed"] is False

    by_platform = toggle_platform.put(f"{base}/tgl_needs_managed")
    assert by_platform.status_code == 200
    assert by_platform.json["changes"] == ["enabled tgl_managed (required by tgl_needs_managed)",
                                           "enabled tgl_needs_managed"]


def test_module_whose_migrations_are_not_applied_is_409_with_the_command(toggle_tenant,
                                                                          toggle_platform):
    owner = toggle_tenant.as_role("owner")
    assert "tgl_pending" not in _states(owner)  # tenants see installed modules only
    refused = _patch(owner, {"tgl_pending": {"enabled": True}})
    assert refused.status_code == 409
    assert "tgl_pending" in refused.json["message"]
    assert "tenantry migrate-all" in refused.json["message"]
    assert _states(owner)["tgl_base"] is False  # nothing of the request stayed

    by_platform = toggle_platform.put(
        f"/api/v1/platform/tenants/{toggle_tenant.id}/modules/tgl_pending")
    assert by_platform.status_code == 409
    assert "tenantry migrate-all" in by_platform.json["message"]


def test_patch_is_all_or_nothing(toggle_tenant):
    owner = toggle_tenant.as_role("owner")
    response = _patch(owner, {"tgl_base": {"enabled": True}, "tgl_pending": {"enabled": True}})
    assert response.status_code == 409
    assert _states(owner)["tgl_base"] is False


@pytest.mark.parametrize("body, where", [
    ({"modules": {"no_such_module": {"enabled": True}}}, "modules"),
    ({"modules": {"no_such_module": {"enabled": False}}}, "modules"),
    ({"modules": {"tgl_base": {"features": {"nope": 1}}}}, "features"),
    ({"modules": {"tgl_base": {"features": {"limit": "three"}}}}, "features"),
    ({"modules": {"tgl_base": {"enabled": "sometimes"}}}, "json"),
    ({"modules": {"tgl_base": {"enabled": None}}}, "json"),
    ({"modules": {"tgl_base": {"colour": "red"}}}, "json"),
    ({"modules": ["tgl_base"]}, "json"),
    ({}, "json"),
])
def test_invalid_settings_are_422_with_field_errors(toggle_tenant, body, where):
    owner = toggle_tenant.as_role("owner")
    response = owner.patch(SETTINGS, json=body)
    assert response.status_code == 422, response.json
    assert where in response.json["errors"]
    if where == "modules":
        assert "no_such_module" in response.json["errors"]["modules"]
    assert _states(owner)["tgl_base"] is False


def test_settings_are_for_the_owner_only(toggle_tenant, toggle_app, toggle_client):
    for role in ("admin", "cashier"):
        client = toggle_tenant.as_role(role)
        assert client.get(SETTINGS).status_code == 403
        assert _patch(client, {"tgl_base": {"enabled": True}}).status_code == 403
    assert toggle_tenant.anonymous().get(SETTINGS).status_code == 401
    assert _patch(toggle_tenant.anonymous(), {"tgl_base": {"enabled": "x"}}).status_code == 401

    other_slug = f"g{uuid.uuid4().hex[:10]}"
    with toggle_app.app_context():
        create_tenant(slug=other_slug, name=other_slug, owner_email="o@other.test",
                      owner_password=PASSWORD)
        db.session.commit()
    foreign = HostClient(toggle_client, f"{other_slug}.tenantry.test",
                         token=toggle_tenant.token("owner"))
    assert foreign.get(SETTINGS).status_code == 403  # token of another tenant
    assert _states(toggle_tenant.as_role("owner"))["tgl_base"] is False


# --------------------------------------------------------------------------- platform side


def test_platform_module_list_shows_available_and_installed(toggle_platform):
    modules = {m["key"]: m for m in toggle_platform.get("/api/v1/platform/modules").json}
    assert (modules["tgl_base"]["available"], modules["tgl_base"]["installed"]) == (True, True)
    assert modules["tgl_pending"]["available"] is True
    assert modules["tgl_pending"]["installed"] is False
    assert modules["tgl_pending"]["installed_version"] is None
    assert modules["tgl_managed"]["tenant_toggleable"] is False
    assert modules["tgl_dep"]["requires"] == ["tgl_base"]


def test_platform_registers_metadata_of_an_available_module(toggle_platform):
    created = toggle_platform.post("/api/v1/platform/modules", json={
        "key": "tgl_pending", "name": "Pending thing", "description": "Coming soon"})
    assert created.status_code == 201, created.json
    assert created.json["name"] == "Pending thing"
    assert created.json["installed"] is False
    again = toggle_platform.post("/api/v1/platform/modules",
                                 json={"key": "tgl_pending", "name": "Again"})
    assert again.status_code == 409
    renamed = toggle_platform.patch("/api/v1/platform/modules/tgl_pending",
                                    json={"name": "Pending"})
    assert renamed.status_code == 200 and renamed.json["name"] == "Pending"


def test_apply_template_follows_requirements_and_is_idempotent(toggle_tenant, toggle_platform):
    key = f"tpl{uuid.uuid4().hex[:8]}"
    saved = toggle_platform.post("/api/v1/platform/templates", json={
        "key": key, "name": "Dep", "modules": {"tgl_dep": {}, "tgl_base": {"greeting": "yo"}}})
    assert saved.status_code == 201, saved.json
    url = f"/api/v1/platform/tenants/{toggle_tenant.id}/apply-template/{key}"
    first = toggle_platform.post(url)
    assert first.status_code == 200, first.json
    assert first.json["changes"] == ["set features of tgl_base", "enabled tgl_base",
                                     "enabled tgl_dep"]
    assert toggle_platform.post(url).json["changes"] == []
    owner = toggle_tenant.as_role("owner")
    assert owner.get("/api/v1/tgl_base/ping").json["greeting"] == "yo"
    assert owner.get("/api/v1/tgl_dep/ping").status_code == 200


def test_apply_template_with_an_unmigrated_module_is_409(toggle_tenant, toggle_platform):
    key = f"tpl{uuid.uuid4().hex[:8]}"
    assert toggle_platform.post("/api/v1/platform/templates", json={
        "key": key, "name": "Pending", "modules": ["tgl_pending"]}).status_code == 201
    response = toggle_platform.post(
        f"/api/v1/platform/tenants/{toggle_tenant.id}/apply-template/{key}")
    assert response.status_code == 409
    assert "tenantry migrate-all" in response.json["message"]
    owner = toggle_tenant.as_role("owner")
    assert _states(owner)["tgl_base"] is False  # the requirement was not left enabled
