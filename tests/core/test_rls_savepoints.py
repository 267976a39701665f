"""The RLS session inside one transaction: switching tenants, savepoints rolled back or
released, and binding the tenant a transaction already has. After every step the database's
own setting (not the session's memory of it) must match the tenant the code believes in."""

from __future__ import annotations

from sqlalchemy import select, text

from core.extensions import db
from core.models import User
from core.rls import bind_tenant, tenant_context, unbind_tenant

_SETTING = text("SELECT current_setting('app.tenant_id', true)")


def _setting() -> str:
    return db.session.execute(_SETTING).scalar_one() or ""


def _emails() -> set[str]:
    return {u.email for u in db.session.execute(select(User)).scalars()}


def test_a_rolled_back_savepoint_that_switched_tenant_leaves_the_outer_scope(
        app, make_tenant):
    first, second = make_tenant(), make_tenant()
    with app.app_context():
        token = bind_tenant(first.id)
        try:
            assert _setting() == str(first.id)
            savepoint = db.session.begin_nested()
            with tenant_context(second.id):
                assert _setting() == str(second.id)
                assert _emails() == set(second.users.values())
                savepoint.rollback()  # PostgreSQL restores the first tenant's setting
            # Code and database agree again, and binding the second tenant really switches.
            assert _setting() == str(first.id)
            assert _emails() == set(first.users.values())
            inner = bind_tenant(second.id)
            assert _setting() == str(second.id)
            assert _emails() == set(second.users.values())
            unbind_tenant(inner)
        finally:
            db.session.rollback()
            unbind_tenant(token)


def test_rebinding_after_a_rolled_back_switch_really_switches(app, make_tenant):
    """The session must not trust its memory of the setting across a savepoint rollback:
    PostgreSQL restored the outer value, so binding the inner tenant again must re-send it."""
    first, second = make_tenant(), make_tenant()
    with app.app_context():
        token = bind_tenant(first.id)
        try:
            assert _setting() == str(first.id)
            savepoint = db.session.begin_nested()
            bind_tenant(second.id)
            assert _setting() == str(second.id)
            savepoint.rollback()
            assert _setting() == str(first.id)
            bind_tenant(second.id)
            assert _setting() == str(second.id)
            assert _emails() == set(second.users.values())
        finally:
            db.session.rollback()
            unbind_tenant(token)


def test_a_released_savepoint_keeps_its_switch_and_rebinding_restores(app, make_tenant):
    first, second = make_tenant(), make_tenant()
    with app.app_context():
        token = bind_tenant(first.id)
        try:
            _setting()  # begin the transaction under the first tenant
            with db.session.begin_nested():
                bind_tenant(second.id)
                assert _setting() == str(second.id)
            assert _setting() == str(second.id)  # released: PostgreSQL kept it
            bind_tenant(first.id)
            assert _setting() == str(first.id)
            assert _emails() == set(first.users.values())
        finally:
            db.session.rollback()
            unbind_tenant(token)


def test_every_new_transaction_starts_scoped(app, make_tenant):
    first, second = make_tenant(), make_tenant()
    with app.app_context():
        token = bind_tenant(first.id)
        try:
            assert _setting() == str(first.id)
            db.session.commit()
            assert _setting() == str(first.id)  # a new transaction, scoped again
            db.session.rollback()
            with tenant_context(second.id):
                assert _emails() == set(second.users.values())
            db.session.rollback()
            assert _setting() == str(first.id)
        finally:
            db.session.rollback()
            unbind_tenant(token)
        assert _setting() == ""  # unbound: fail closed
        assert _emails() == set()
        db.session.rollback()
