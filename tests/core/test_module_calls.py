"""``core.module_calls.call_if_enabled``: the one way to cause an effect in another module. It
calls the hook through the plugin manager (``firstresult`` gives one answer) only when the
module is installed and enabled for the tenant, and says whether it called."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from core.extensions import db
from core.module_calls import call_if_enabled
from core.rls import tenant_context

ON_HAND = "tenantry_stock_on_hand"  # stock's read-only service: firstresult
PRODUCT = uuid.uuid4()  # never moved: on hand zero


@pytest.fixture
def ask(app):
    def call(module_key, tenant_id, hook_name=ON_HAND):
        with app.app_context(), tenant_context(tenant_id):
            try:
                return call_if_enabled(module_key, tenant_id, hook_name,
                                       product_ids=[PRODUCT], location_id=None)
            finally:
                db.session.rollback()

    return call


def test_the_hook_runs_when_the_module_is_enabled(ask, make_tenant):
    call = ask("stock", make_tenant(modules=["stock"]).id)
    assert call.called
    assert call.result == {PRODUCT: Decimal("0")}  # firstresult: stock's one answer


def test_nothing_runs_when_the_module_is_off_for_the_tenant(ask, make_tenant):
    call = ask("stock", make_tenant(modules=["catalog"]).id)
    assert not call.called and call.result is None


def test_nothing_runs_for_a_module_or_hook_the_deployment_lacks(ask, make_tenant):
    tenant = make_tenant(modules=["stock"])
    assert not ask("warehouse", tenant.id).called  # no such module installed
    assert not ask("stock", tenant.id, "tenantry_warehouse_on_hand").called  # no such hook
