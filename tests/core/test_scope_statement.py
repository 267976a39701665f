"""The statement that scopes a transaction is built from values that cannot carry SQL: a UUID
(re-parsed) and integers. SET takes no bind parameters, so this is what keeps it safe."""

from __future__ import annotations

import uuid

import pytest

from core.rls import scope_statement


def test_a_tenant_and_limits():
    tenant = uuid.uuid4()
    assert scope_statement(tenant, {"statement_timeout": "5000", "lock_timeout": "2000"}) == (
        f"SET LOCAL app.tenant_id = '{tenant}'; SET LOCAL statement_timeout = 5000; "
        "SET LOCAL lock_timeout = 2000")


def test_no_tenant_is_the_empty_scope():
    assert scope_statement(None) == "SET LOCAL app.tenant_id = ''"


@pytest.mark.parametrize("value", ["x'; DROP TABLE users; --", "", "1"])
def test_anything_but_a_uuid_is_refused(value):
    with pytest.raises(ValueError):
        scope_statement(value or "not-a-uuid")


def test_limits_must_be_integers():
    with pytest.raises(ValueError):
        scope_statement(uuid.uuid4(), {"statement_timeout": "1; SELECT 1", "lock_timeout": "0"})
