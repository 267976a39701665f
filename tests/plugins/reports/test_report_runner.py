"""How reports run, with test-only report definitions contributed by an extra plugin (passed
through ``EXTRA_PLUGINS``): the statement timeout, the read-only savepoint, and the checks the
catalogue makes on definitions at start-up.

The extra plugin's definitions belong to the ``reports`` module itself, so a tenant needs
nothing else enabled; its own module (``rpt_probe``) is never installed, which is fine: it has
no tables and no tenant enables it.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from marshmallow import Schema, fields
from sqlalchemy import text

from core import create_app
from core.app_state import app_state
from core.extensions import db
from core.plugins import Module, PluginError, build_registry, hookimpl
from core.sdk import ReportDefinition
from core.testing.app import app_config
from core.testing.tenants import TenantHandle
from plugins.reports.catalogue import build_catalogue

TIMEOUT_MS = 200


class NoParameters(Schema):
    pass


class EchoParameters(Schema):
    word = fields.String(required=True)
    when = fields.DateTime()


def _sleep(tenant_id, parameters):
    db.session.execute(text("SELECT pg_sleep(5)"))
    return []


def _timeout_setting(tenant_id, parameters):
    value = db.session.execute(text("SELECT current_setting('statement_timeout')")).scalar_one()
    return [{"statement_timeout": value}]


def _writer(tenant_id, parameters):
    # A faulty report that writes: the savepoint it runs in is rolled back.
    db.session.execute(text("SELECT set_config('app.report_probe', 'written', true)"))
    return [{"tenant": tenant_id}]


def _echo(tenant_id, parameters):
    return [{"word": parameters["word"], "tenant": tenant_id}]


def _definition(name, run, parameters=NoParameters, columns=("value",), **kwargs):
    return ReportDefinition(name=name, title=name, module="reports", parameters=parameters,
                            columns=columns, run=run, **kwargs)


PROBE_REPORTS = [
    _definition("probe_sleep", _sleep),
    _definition("probe_timeout_setting", _timeout_setting, columns=("statement_timeout",)),
    _definition("probe_writer", _writer, columns=("tenant",)),
    _definition("probe_echo", _echo, EchoParameters, columns=("word", "tenant"),
                roles=("owner", "cashier")),
]


class _ReportsPlugin:
    def __init__(self, key: str, definitions) -> None:
        self.key, self.definitions = key, definitions

    @hookimpl
    def tenantry_module(self):
        return Module(key=self.key, name=self.key, version="0.1.0")

    @hookimpl
    def tenantry_reports_definitions(self):
        return self.definitions


@pytest.fixture(scope="module")
def probe_app(app, database):
    """The session database (already migrated by ``app``) with the probe reports and a short
    statement timeout."""
    application = create_app(app_config(
        database, REPORT_STATEMENT_TIMEOUT_MS=TIMEOUT_MS,
        EXTRA_PLUGINS=[("rpt_probe", _ReportsPlugin("rpt_probe", PROBE_REPORTS))]))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def probe_tenant(make_tenant, probe_app):
    tenant = make_tenant(modules=("reports",))
    return TenantHandle(tenant.id, tenant.slug, probe_app, probe_app.test_client(),
                        dict(tenant.users))


def test_a_statement_over_the_timeout_answers_503_quickly(probe_tenant):
    owner = probe_tenant.as_role("owner")
    started = time.monotonic()
    response = owner.get("/api/v1/reports/probe_sleep")
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.json
    assert f"longer than {TIMEOUT_MS} ms" in response.json["message"]
    assert elapsed < 3, f"pg_sleep(5) was not cancelled ({elapsed:.1f} s)"
    # The worker and its connection are fine afterwards.
    assert owner.get("/api/v1/reports/probe_timeout_setting").status_code == 200


def test_reports_run_with_the_configured_statement_timeout(probe_tenant):
    body = probe_tenant.as_role("owner").get("/api/v1/reports/probe_timeout_setting").json
    assert body["rows"] == [{"statement_timeout": f"{TIMEOUT_MS}ms"}]


def test_the_timeout_and_any_writes_end_with_the_report(probe_app, probe_tenant):
    owner = probe_tenant.as_role("owner")
    assert owner.get("/api/v1/reports/probe_writer").status_code == 200
    # Inside one transaction: run the service directly, then look at the settings after it.
    from plugins.reports.services import run_report

    definition = app_state(probe_app).plugin_objects["reports"].get("probe_writer", {"reports"})
    with probe_app.app_context():
        db.session.execute(text("SELECT 1"))
        rows = run_report(definition.definition, probe_tenant.id, {}, TIMEOUT_MS)
        probe = db.session.execute(text(
            "SELECT current_setting('app.report_probe', true), "
            "current_setting('statement_timeout')")).one()
        db.session.rollback()
    assert rows == [{"tenant": probe_tenant.id}]
    assert probe[0] in (None, "")  # the write was rolled back with the savepoint
    assert probe[1] != f"{TIMEOUT_MS}ms"


def test_definition_roles_and_required_parameters(probe_tenant):
    cashier = probe_tenant.as_role("cashier")
    listed = [r["name"] for r in cashier.get("/api/v1/reports").json]
    assert listed == ["probe_echo"]
    missing = cashier.get("/api/v1/reports/probe_echo")
    assert missing.status_code == 422
    assert missing.json["errors"]["query"] == {"word": ["Missing data for required field."]}
    body = cashier.get("/api/v1/reports/probe_echo?word=hi").json
    assert body["rows"] == [{"word": "hi", "tenant": str(probe_tenant.id)}]
    assert body["parameters"] == {"word": "hi"}
    assert cashier.get("/api/v1/reports/probe_sleep").status_code == 403


def test_an_api_key_with_the_admin_role_may_run_admin_reports(probe_tenant, issue_key):
    from core.testing.app import HostClient

    admin_key = issue_key(probe_tenant, role="admin")
    client = HostClient(probe_tenant.client, probe_tenant.host, api_key=admin_key)
    assert client.get("/api/v1/reports/probe_timeout_setting").status_code == 200
    user_key = issue_key(probe_tenant, role="user")
    client = HostClient(probe_tenant.client, probe_tenant.host, api_key=user_key)
    assert client.get("/api/v1/reports/probe_timeout_setting").status_code == 403


# --------------------------------------------------------------------------- catalogue checks


def _catalogue(*plugins):
    registry = build_registry(builtins=("plugins.reports",),
                              extra=[(p.key, p) for p in plugins])
    from flask import Flask
    from flask_smorest import Api

    flask_app = Flask("catalogue-test")
    flask_app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    return build_catalogue(registry, Api(flask_app).ma_plugin.converter)


def test_duplicate_report_names_stop_start_up_naming_both_plugins():
    first = _ReportsPlugin("rpt_one", [_definition("same_name", _echo)])
    second = _ReportsPlugin("rpt_two", [_definition("same_name", _echo)])
    with pytest.raises(PluginError) as error:
        _catalogue(first, second)
    message = str(error.value)
    assert "'same_name' is defined twice" in message
    assert "'rpt_one'" in message and "'rpt_two'" in message


def test_duplicate_names_stop_create_app(database):
    plugins = [(key, _ReportsPlugin(key, [_definition("dup", _echo)]))
               for key in ("rpt_a", "rpt_b")]
    with pytest.raises(PluginError, match="defined twice"):
        create_app(app_config(database, EXTRA_PLUGINS=plugins))


@pytest.mark.parametrize(("change", "fragment"), [
    ({"name": "Bad Name"}, "name must be"),
    ({"columns": ()}, "columns must be"),
    ({"columns": ("a", "a")}, "columns must be"),
    ({"roles": ()}, "at least one role"),
    ({"parameters": NoParameters()}, "marshmallow Schema class"),
    ({"parameters": type("FormatParameters", (Schema,), {"format": fields.String()})},
     "reserved"),
    ({"run": None}, "run must be callable"),
])
def test_malformed_definitions_are_refused(change, fragment):
    definition = replace(_definition("good_name", _echo), **change)
    with pytest.raises(PluginError, match=fragment):
        _catalogue(_ReportsPlugin("rpt_bad", [definition]))


def test_something_other_than_a_definition_is_refused():
    with pytest.raises(PluginError, match="must return ReportDefinition objects"):
        _catalogue(_ReportsPlugin("rpt_bad", [{"name": "x"}]))


def test_a_valid_catalogue_lists_every_definition():
    catalogue = _catalogue(_ReportsPlugin("rpt_ok", [_definition("one", _echo),
                                                    _definition("two", _echo)]))
    assert catalogue.names() == ["one", "two"]
    assert catalogue.visible({"reports"}, "admin")[0].definition.name == "one"
    assert catalogue.visible(set(), "admin") == []
