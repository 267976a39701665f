"""Login throttling: ten failures lock the account name for a while (429 + Retry-After), for
tenant users and platform admins, shared by every worker through the database."""

from __future__ import annotations

from sqlalchemy import update

from core.auth.throttle import MAX_FAILURES, throttle_key
from core.extensions import db
from core.models import LoginThrottle
from core.testing.tenants import PASSWORD


def _fail(client, email, times):
    statuses = [client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-pw"})
                .status_code for _ in range(times)]
    return statuses


def test_tenant_login_locks_after_repeated_failures(tenant, app):
    email = tenant.users["owner"]
    anonymous = tenant.anonymous()
    assert _fail(anonymous, email, MAX_FAILURES) == [401] * MAX_FAILURES
    locked = anonymous.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert locked.status_code == 429  # even the right password, while locked
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.json["message"].startswith("too many failed logins")

    # Another account of the same tenant is not affected.
    other = tenant.add_user("admin")
    assert anonymous.post("/api/v1/auth/login", json={"email": other, "password": PASSWORD}
                          ).status_code == 200

    with app.app_context():  # the lock expires
        db.session.execute(update(LoginThrottle).where(
            LoginThrottle.key == throttle_key(str(tenant.id), email)).values(
            locked_until=db.func.now() - db.text("interval '1 second'")))
        db.session.commit()
    assert anonymous.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}
                          ).status_code == 200


def test_a_success_resets_the_count(make_tenant):
    tenant = make_tenant()
    email = tenant.users["owner"]
    anonymous = tenant.anonymous()
    _fail(anonymous, email, MAX_FAILURES - 1)
    assert anonymous.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}
                          ).status_code == 200
    assert _fail(anonymous, email, MAX_FAILURES - 1) == [401] * (MAX_FAILURES - 1)
    assert anonymous.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}
                          ).status_code == 200


def test_platform_login_is_throttled_too(platform):
    email = "nobody-here@tenantry.test"
    statuses = [platform.post("/api/v1/platform/auth/login",
                              json={"email": email, "password": "wrong-pw"}).status_code
                for _ in range(MAX_FAILURES + 1)]
    assert statuses == [401] * MAX_FAILURES + [429]


def test_no_e_mail_is_stored_in_the_throttle(tenant, app):
    email = tenant.users["owner"]
    _fail(tenant.anonymous(), email, 1)
    with app.app_context():
        keys = db.session.execute(db.select(LoginThrottle.key)).scalars().all()
    assert throttle_key(str(tenant.id), email) in keys
    assert not any("@" in key for key in keys)
