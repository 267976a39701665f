"""Install states that tell the truth: a plugin installed after the server started is reported
as "installed, not loaded — restart" by readiness and refused with 409 (and the reason) when a
tenant owner or the platform tries to enable it; ``tenantry modules list`` shows each loaded
module as ready or with migrations pending."""

from __future__ import annotations

import importlib

import pytest

from core import create_app
from core.install_states import NOT_LOADED, PENDING, READY, module_state
from core.testing import PLATFORM_HOST, HostClient, app_config
from tests.fixtures.plugins import THIRDPARTY_SRC


@pytest.fixture
def server_then_install(database, monkeypatch, app):
    """A server started without the notes plugin, which is then installed (put on the path
    with its dist-info, as pip would) while it runs."""
    server = create_app(app_config(database))
    monkeypatch.syspath_prepend(str(THIRDPARTY_SRC))
    importlib.invalidate_caches()
    return server


def test_readiness_says_installed_not_loaded_restart(server_then_install):
    response = HostClient(server_then_install.test_client(), PLATFORM_HOST).get("/readyz")
    assert response.status_code == 200
    notice = response.json["notices"][0]
    assert "plugin 'notes' (tenantry-notes 0.1.0)" in notice
    assert NOT_LOADED in notice and "restart" in notice


def test_enabling_it_is_a_409_naming_the_restart(server_then_install, make_tenant):
    tenant = make_tenant()
    client = server_then_install.test_client()
    owner = HostClient(client, tenant.host, token=tenant.token("owner"))
    response = owner.patch("/api/v1/tenant/settings", json={"modules": {"notes": {
        "enabled": True}}})
    assert response.status_code == 409
    assert "installed, not loaded by this server" in response.json["message"]
    assert "restart" in response.json["message"]


def test_a_server_that_loaded_everything_has_no_notice(app, platform):
    assert "notices" not in platform.get("/readyz").json


@pytest.mark.parametrize(("installed", "problems", "state"), [
    ({"stock": "1.0.0"}, {}, READY),
    ({}, {}, PENDING),
    ({"stock": "1.0.0"}, {"stock": "behind"}, PENDING),
])
def test_module_states(installed, problems, state):
    assert module_state("stock", installed, problems) == state
