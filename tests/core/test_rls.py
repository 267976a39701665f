"""Row level security, exercised as the unprivileged app role (DATABASE_URL), never faked.

A tenant's transaction sees and writes only its own rows; without a tenant nothing is visible;
a pooled connection used for one tenant and then another carries nothing over, because the
scope is a transaction-local ``set_config(..., true)`` re-applied at the start of every
transaction.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from core import create_app
from core.auth.passwords import hash_password
from core.extensions import db
from core.models import ApiKey, TenantModule, User
from core.rls import tenant_context
from core.role_check import role_problems
from core.testing.app import HostClient, app_config

TENANT_TABLES = ("users", "tenant_modules", "api_keys", "idempotency_keys")


@pytest.fixture
def two_tenants(make_tenant):
    first, second = make_tenant(modules=["users"]), make_tenant(modules=["users"])
    first.add_user("cashier")
    second.add_user("admin")
    return first, second


def _emails(tenant_id):
    with tenant_context(tenant_id):
        return {row.email for row in db.session.execute(select(User)).scalars()}


def test_the_app_connects_as_an_unprivileged_role(app, database):
    with app.app_context():
        assert role_problems(db.engine) == []
        user = db.session.execute(text("SELECT current_user")).scalar_one()
        db.session.rollback()
    assert user in database.app_url


def test_a_tenant_sees_only_its_own_rows(app, two_tenants):
    first, second = two_tenants
    with app.app_context():
        assert _emails(first.id) == set(first.users.values())
        assert _emails(second.id) == set(second.users.values())
        with tenant_context(first.id):
            for model in (User, TenantModule):
                rows = db.session.execute(select(model)).scalars().all()
                assert rows and {row.tenant_id for row in rows} == {first.id}
            # Asking for the other tenant's rows by their tenant id finds nothing.
            assert db.session.execute(select(User).where(User.tenant_id == second.id)).all() == []
        db.session.rollback()


def test_a_tenant_cannot_write_into_another(app, two_tenants):
    first, second = two_tenants
    with app.app_context():
        with tenant_context(first.id):
            changed = db.session.execute(update(User).where(User.tenant_id == second.id)
                                         .values(role="owner"))
            assert changed.rowcount == 0
            db.session.add(User(tenant_id=second.id, id=uuid.uuid4(), email="intruder@x.test",
                                password_hash=hash_password("whatever-1"), role="owner"))
            with pytest.raises(DBAPIError) as refused:
                db.session.flush()
            assert refused.value.orig.sqlstate == "42501"  # row-level security violation
        db.session.rollback()
        assert "intruder@x.test" not in _emails(second.id)
        db.session.rollback()


def test_no_tenant_means_no_rows(app, two_tenants):
    with app.app_context():
        with tenant_context(None):
            assert db.session.execute(select(User)).all() == []
            assert db.session.execute(select(ApiKey)).all() == []
        db.session.rollback()
        # A bare connection (no session, no listener) has no scope either.
        with db.engine.connect() as connection:
            for table in TENANT_TABLES:
                count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                assert count == 0, table


def test_rows_without_a_tenant_cannot_be_written(app):
    with app.app_context():
        # tenant_id defaults to the (empty) setting: NULL, refused.
        with tenant_context(None), pytest.raises(DBAPIError):
            db.session.execute(text(
                "INSERT INTO users (id, email, password_hash, role) "
                "VALUES (gen_random_uuid(), 'nobody@x.test', 'x', 'owner')"))
        db.session.rollback()


def test_scope_survives_a_commit_in_the_middle(app, two_tenants):
    first, _ = two_tenants
    with app.app_context(), tenant_context(first.id):
        before = {row.email for row in db.session.execute(select(User)).scalars()}
        db.session.commit()  # the next statement starts a new transaction
        after = {row.email for row in db.session.execute(select(User)).scalars()}
        db.session.rollback()
    assert before == after == set(first.users.values())


@pytest.fixture(scope="module")
def single_connection_app(database):
    """An app whose pool keeps exactly one connection: every transaction reuses it. (One
    overflow connection is allowed because a request also checks the schema's readiness on a
    connection of its own while its session holds the pooled one.)"""
    application = create_app(app_config(database, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 1, "max_overflow": 1, "pool_timeout": 10}))
    yield application
    with application.app_context():
        db.engine.dispose()


def test_a_pooled_connection_never_carries_a_tenant_over(single_connection_app, two_tenants):
    first, second = two_tenants
    with single_connection_app.app_context():
        pids = []
        for handle in (first, second, first):
            with tenant_context(handle.id):
                pids.append(db.session.execute(text("SELECT pg_backend_pid()")).scalar_one())
                assert {row.tenant_id for row in db.session.execute(select(User)).scalars()} \
                    == {handle.id}
            db.session.commit()
        with tenant_context(None):
            pids.append(db.session.execute(text("SELECT pg_backend_pid()")).scalar_one())
            assert db.session.execute(select(User)).all() == []
        db.session.commit()
        with db.engine.connect() as connection:
            pids.append(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
            setting = connection.execute(
                text("SELECT current_setting('app.tenant_id', true)")).scalar_one()
            assert setting in ("", None)  # nothing left on the session itself
    assert len(set(pids)) == 1  # really the same server connection every time


def test_a_pooled_connection_over_http(single_connection_app, two_tenants):
    first, second = two_tenants
    client = single_connection_app.test_client()
    for handle in (first, second, first, second):
        listed = HostClient(client, handle.host, token=handle.token("owner")).get(
            "/api/v1/users", query_string={"page_size": 100})
        assert listed.status_code == 200, listed.json
        assert {u["email"] for u in listed.json} == set(handle.users.values())
