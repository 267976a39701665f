"""Login abuse (issue 18 item 2): guessing slows down where it comes from, a stranger cannot
lock an owner out, a refused client costs no password hash, and the counters are shared by
every worker through the database (core/auth/throttle.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core.auth import services
from core.auth.throttle import LoginAttempt
from core.extensions import db
from core.models import LoginThrottle
from core.testing.tenants import PASSWORD

LOGIN = "/api/v1/auth/login"
OWNER_ADDRESS, STRANGER_ADDRESS = "198.51.100.7", "203.0.113.66"


def _login(client, email, password, address):
    return client.post(LOGIN, json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _fail(client, email, times, address=STRANGER_ADDRESS):
    return [_login(client, email, "wrong-password", address).status_code for _ in range(times)]


@pytest.fixture
def limits(app):
    """Small limits for one test; the app's own values come back afterwards."""
    names = ("LOGIN_FREE_FAILURES", "LOGIN_ACCOUNT_MAX_FAILURES", "LOGIN_CLIENT_MAX_FAILURES")
    saved = {name: app.config[name] for name in names}

    def set_limits(**values):
        app.config.update({name.upper(): value for name, value in values.items()})

    yield set_limits
    app.config.update(saved)


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password verifications the logins run (argon2 work)."""
    calls = []
    real = services.verify_password

    def counting(password_hash, password):
        calls.append(1)
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", counting)
    return calls


def _pair_row(app, scope, email, address):
    with app.test_request_context():
        key = LoginAttempt(scope, email, address).pair_key
        return db.session.get(LoginThrottle, key)


def _expire_pair_delay(app, scope, email, address):
    with app.test_request_context():
        key = LoginAttempt(scope, email, address).pair_key
        db.session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(
            locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()


def test_failures_from_one_address_slow_that_address_only(make_tenant, app):
    tenant = make_tenant()
    email, free = tenant.users["owner"], app.config["LOGIN_FREE_FAILURES"]
    anonymous = tenant.anonymous()
    assert _fail(anonymous, email, free) == [401] * free
    refused = _login(anonymous, email, PASSWORD, STRANGER_ADDRESS)
    assert refused.status_code == 429  # even the right password, while it waits
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json["message"].startswith("too many failed logins")
    # The owner, elsewhere, is not locked out by the stranger's guesses.
    assert _login(anonymous, email, PASSWORD, OWNER_ADDRESS).status_code == 200


def test_the_delay_doubles_with_each_further_failure(make_tenant, app):
    tenant = make_tenant()
    email, free = tenant.users["owner"], app.config["LOGIN_FREE_FAILURES"]
    anonymous = tenant.anonymous()
    _fail(anonymous, email, free)
    delays = []
    for _ in range(3):
        row = _pair_row(app, str(tenant.id), email, STRANGER_ADDRESS)
        delays.append((row.locked_until - datetime.now(UTC)).total_seconds())
        _expire_pair_delay(app, str(tenant.id), email, STRANGER_ADDRESS)
        assert _fail(anonymous, email, 1) == [401]  # the wait is over: one more guess
    assert 0 < delays[0] <= 1
    assert 1 < delays[1] <= 2
    assert 3 < delays[2] <= 4


def test_a_distributed_guess_stops_the_addresses_that_took_part(make_tenant, app, limits):
    tenant = make_tenant()
    email = tenant.users["owner"]
    anonymous = tenant.anonymous()
    limits(login_account_max_failures=4)
    guessers = [f"192.0.2.{n}" for n in range(1, 5)]
    for address in guessers:  # one failure each: no address reaches the per-address delay
        assert _fail(anonymous, email, 1, address) == [401]
    for address in guessers:
        assert _login(anonymous, email, PASSWORD, address).status_code == 429
    assert _login(anonymous, email, PASSWORD, OWNER_ADDRESS).status_code == 200


def test_an_address_spraying_accounts_is_refused_before_any_hash(make_tenant, limits, hashes):
    tenant = make_tenant()
    limits(login_client_max_failures=3)
    anonymous, sprayer = tenant.anonymous(), "192.0.2.250"  # an address no other test uses
    for n in range(3):
        assert _fail(anonymous, f"guess-{n}@example.test", 1, sprayer) == [401]
    assert len(hashes) == 3
    refused = _login(anonymous, tenant.users["owner"], PASSWORD, sprayer)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60  # the rest of the 15-minute window
    assert len(hashes) == 3  # no argon2 for a refused client
    assert _login(anonymous, tenant.users["owner"], PASSWORD, OWNER_ADDRESS).status_code == 200


def test_a_success_clears_the_account_counters(make_tenant, app):
    tenant = make_tenant()
    email, free = tenant.users["owner"], app.config["LOGIN_FREE_FAILURES"]
    anonymous = tenant.anonymous()
    for _ in range(2):
        assert _fail(anonymous, email, free - 1) == [401] * (free - 1)
        assert _login(anonymous, email, PASSWORD, STRANGER_ADDRESS).status_code == 200


def test_failures_older_than_the_window_are_forgotten(make_tenant, app):
    tenant = make_tenant()
    email, free = tenant.users["owner"], app.config["LOGIN_FREE_FAILURES"]
    anonymous = tenant.anonymous()
    _fail(anonymous, email, free)
    with app.test_request_context():
        keys = [getattr(LoginAttempt(str(tenant.id), email, STRANGER_ADDRESS), name)
                for name in ("pair_key", "account_key", "client_key")]
        db.session.execute(update(LoginThrottle).where(LoginThrottle.key.in_(keys)).values(
            window_started_at=datetime.now(UTC) - timedelta(minutes=16)))
        db.session.commit()
    assert _login(anonymous, email, PASSWORD, STRANGER_ADDRESS).status_code == 200


def test_platform_login_is_throttled_too(platform, app):
    free = app.config["LOGIN_FREE_FAILURES"]
    statuses = [platform.post("/api/v1/platform/auth/login",
                              json={"email": "nobody-here@tenantry.test",
                                    "password": "wrong-password"},
                              environ_base={"REMOTE_ADDR": "192.0.2.200"}).status_code
                for _ in range(free + 1)]
    assert statuses == [401] * free + [429]


def test_no_e_mail_or_address_is_stored(make_tenant, app):
    tenant = make_tenant()
    email = tenant.users["owner"]
    _fail(tenant.anonymous(), email, 1)
    with app.app_context():
        keys = db.session.execute(db.select(LoginThrottle.key)).scalars().all()
    with app.test_request_context():
        attempt = LoginAttempt(str(tenant.id), email, STRANGER_ADDRESS)
    assert {attempt.pair_key, attempt.account_key, attempt.client_key} <= set(keys)
    assert not any("@" in key or STRANGER_ADDRESS in key for key in keys)
