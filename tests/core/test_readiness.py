"""Readiness everywhere (issue 10, item 3): a database that answers but is not migrated, is partly
migrated, or misses a module's branch gets a 503 naming what is missing and the command that
fixes it on every route (tenant login, platform login, API keys, module routes, bootstrap),
never a 500; ``/readyz`` names the reason precisely; liveness never needs the database.
"""

from __future__ import annotations

import pytest
from alembic import command

from core import create_app
from core.extensions import db
from core.provisioning import connect_admin
from core.schema_migrations import alembic_config, migrate_all, revision_script
from core.testing.app import BOOTSTRAP_TOKEN, PLATFORM_HOST, ROOT_DOMAIN, app_config
from core.testing.database import _from_admin_url
from tests.fixtures.apikeys import CLINCORE_HOST

TENANT_HOST = f"acme.{ROOT_DOMAIN}"
FIX = "tenantry migrate-all"

# (method, host, path, headers, json): one request of every kind a client sends.
EVERY_KIND = [
    ("POST", TENANT_HOST, "/api/v1/auth/login", {}, {"email": "a@b.test", "password": "x" * 12}),
    ("POST", PLATFORM_HOST, "/api/v1/platform/auth/login", {},
     {"email": "root@tenantry.test", "password": "x" * 12}),
    ("GET", CLINCORE_HOST, "/cases", {"X-API-Key": "tk_" + "a" * 40}, None),
    ("GET", TENANT_HOST, "/api/v1/catalog/products", {"X-API-Key": "tk_" + "a" * 40}, None),
    ("GET", TENANT_HOST, "/api/v1/catalog/products", {"Authorization": "Bearer x.y.z"}, None),
    ("POST", CLINCORE_HOST, "/bootstrap", {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
     {"tenant_name": "Acme"}),
    ("GET", PLATFORM_HOST, "/api/v1/platform/tenants",
     {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}, None),
    ("GET", "unknown.example", "/api/v1/auth/me", {}, None),
]


def _send(client, method, host, path, headers, body):
    return client.open(path, method=method, headers={"Host": host, **headers}, json=body,
                       base_url=f"http://{host}")


def _assert_not_ready(response, *needles):
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True))
    assert response.json["code"] == 503 and response.json["status"] == "Service Unavailable"
    assert response.headers.get("Retry-After", "").isdigit()
    for needle in needles:
        assert needle in response.json["message"], response.json["message"]


@pytest.fixture
def unmigrated_app(fresh_database):
    """Roles and database exist, no migration ever ran."""
    return create_app(app_config(fresh_database))


def test_liveness_needs_no_schema(unmigrated_app):
    assert unmigrated_app.test_client().get("/healthz").status_code == 200


def test_readyz_says_the_schema_is_missing_not_unreachable(unmigrated_app):
    response = unmigrated_app.test_client().get("/readyz")
    _assert_not_ready(response, "schema is missing", FIX)
    assert "unreachable" not in response.json["message"]


@pytest.mark.parametrize("method,host,path,headers,body", EVERY_KIND,
                         ids=[f"{m} {h} {p}" for m, h, p, *_ in EVERY_KIND])
def test_every_route_answers_503_with_the_reason_on_an_unmigrated_database(
        unmigrated_app, method, host, path, headers, body):
    response = _send(unmigrated_app.test_client(), method, host, path, headers, body)
    _assert_not_ready(response, "schema is missing", FIX)


def test_a_partly_migrated_core_is_named_with_its_head(fresh_database):
    application = create_app(app_config(fresh_database))
    with application.app_context():
        script = revision_script()
        first = list(script.iterate_revisions("core@head", "base"))[-1].revision
        head = script.get_revision("core@head").revision
        command.upgrade(alembic_config(), first)
    client = application.test_client()
    ready = client.get("/readyz")
    if first != head:
        _assert_not_ready(ready, "'core'", head, FIX)
    for method, host, path, headers, body in EVERY_KIND:
        _assert_not_ready(_send(client, method, host, path, headers, body), FIX)


def test_migrating_makes_the_running_app_ready_without_a_restart(unmigrated_app):
    client = unmigrated_app.test_client()
    _assert_not_ready(client.get("/readyz"))
    with unmigrated_app.app_context():
        migrate_all(echo=lambda _line: None)
    assert client.get("/readyz").status_code == 200
    login = _send(client, *EVERY_KIND[1])
    assert login.status_code == 401, login.json  # the schema answers; the password is wrong


# --------------------------------------------------------------------------- a branch behind


@pytest.fixture(scope="module")
def migrated(server_admin_url):
    """A migrated database of this module's own, with one tenant that has the cases module."""
    database = _from_admin_url(server_admin_url)
    application = create_app(app_config(database))
    with application.app_context():
        migrate_all(echo=lambda _line: None)
        from core.tenant_lifecycle import create_tenant

        create_tenant(slug="acme", name="Acme", owner_email="owner@acme.test",
                      owner_password="correct-horse-battery", modules={"cases": {}})
        db.session.commit()
        head = revision_script().get_revision("cases@head").revision
    return database, application, head


@pytest.fixture
def cases_branch_missing(migrated):
    database, application, head = migrated
    with connect_admin(database.admin_url) as connection:
        connection.execute("DELETE FROM alembic_version WHERE version_num = %s", (head,))
    try:
        yield application, head
    finally:
        with connect_admin(database.admin_url) as connection:
            connection.execute("INSERT INTO alembic_version VALUES (%s)", (head,))


def test_readyz_names_the_branch_that_is_behind(cases_branch_missing):
    application, head = cases_branch_missing
    _assert_not_ready(application.test_client().get("/readyz"), "'cases'", head, FIX)


def test_the_modules_routes_answer_503_and_the_rest_serves(cases_branch_missing):
    application, _head = cases_branch_missing
    client = application.test_client()
    login = _send(client, "POST", TENANT_HOST, "/api/v1/auth/login", {},
                  {"email": "owner@acme.test", "password": "correct-horse-battery"})
    assert login.status_code == 200, login.json
    token = login.json["access_token"]
    cases = _send(client, "GET", TENANT_HOST, "/api/v1/cases/cases",
                  {"Authorization": f"Bearer {token}"}, None)
    if cases.status_code == 404:  # the runbook's root path
        cases = _send(client, "GET", TENANT_HOST, "/cases",
                      {"Authorization": f"Bearer {token}"}, None)
    _assert_not_ready(cases, "'cases'", FIX)
    me = _send(client, "GET", TENANT_HOST, "/api/v1/auth/me",
               {"Authorization": f"Bearer {token}"}, None)
    assert me.status_code == 200, me.json
