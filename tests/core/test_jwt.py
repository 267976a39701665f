"""JWT verification over HTTP: every way a token can be wrong answers 401 (403 for a valid
token of another tenant), and a rotated secret keeps old tokens valid through ``kid``."""

from __future__ import annotations

import time

import jwt
import pytest

from core import create_app
from core.auth.tokens import PLATFORM_AUDIENCE, TENANT_AUDIENCE, key_id
from core.extensions import db
from core.testing.app import JWT_SECRET, PLATFORM_HOST, HostClient, app_config

ME = "/api/v1/auth/me"
OTHER_SECRET = "another-secret-" + "z" * 40
_DEFAULT = object()


@pytest.fixture
def owner_claims(tenant):
    """Claims of a valid owner token of ``tenant`` (taken from a real login)."""
    token = tenant.token("owner")
    return jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience=TENANT_AUDIENCE)


def forge(claims, *, drop=(), secret=JWT_SECRET, kid=_DEFAULT, algorithm="HS256", **changes):
    now = int(time.time())
    payload = {**claims, "iat": now, "exp": now + 600, **changes}
    for name in drop:
        payload.pop(name)
    headers = {} if kid is None else {"kid": key_id(secret) if kid is _DEFAULT else kid}
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def _me(tenant, token):
    return tenant.anonymous().with_token(token).get(ME)


def test_a_forged_but_correct_token_is_accepted(tenant, owner_claims):
    # The baseline: the forging helper makes good tokens, so the refusals below are real.
    response = _me(tenant, forge(owner_claims))
    assert response.status_code == 200
    assert response.json["role"] == "owner"


def test_alg_none_is_refused(tenant, owner_claims):
    payload = {**owner_claims, "iat": int(time.time()), "exp": int(time.time()) + 600}
    token = jwt.encode(payload, None, algorithm="none", headers={"kid": key_id(JWT_SECRET)})
    assert _me(tenant, token).status_code == 401
    assert _me(tenant, token.rstrip(".") + ".").status_code == 401


@pytest.mark.parametrize("case", [
    pytest.param("other_algorithm",
                 marks=pytest.mark.filterwarnings("ignore:The HMAC key is")),
    "wrong_secret", "unknown_kid", "no_kid", "expired", "issued_in_future",
    "wrong_issuer", "wrong_audience", "platform_audience", "bogus_typ", "platform_typ",
    "bad_tenant_claim", "no_tenant_claim", "bad_subject", "unknown_subject", "old_version",
])
def test_bad_tokens_are_401(tenant, owner_claims, case):
    now = int(time.time())
    token = {
        "other_algorithm": lambda: forge(owner_claims, algorithm="HS512"),
        "wrong_secret": lambda: forge(owner_claims, secret=OTHER_SECRET, kid=key_id(JWT_SECRET)),
        "unknown_kid": lambda: forge(owner_claims, secret=OTHER_SECRET),
        "no_kid": lambda: forge(owner_claims, kid=None),
        "expired": lambda: forge(owner_claims, iat=now - 7200, exp=now - 3600),
        "issued_in_future": lambda: forge(owner_claims, iat=now + 3600, exp=now + 7200),
        "wrong_issuer": lambda: forge(owner_claims, iss="someone-else"),
        "wrong_audience": lambda: forge(owner_claims, aud="someone-else"),
        "platform_audience": lambda: forge(owner_claims, aud=PLATFORM_AUDIENCE),
        "bogus_typ": lambda: forge(owner_claims, typ="admin"),
        "platform_typ": lambda: forge(owner_claims, typ="platform"),
        "bad_tenant_claim": lambda: forge(owner_claims, tid="not-a-uuid"),
        "no_tenant_claim": lambda: forge(owner_claims, drop=["tid"]),
        "bad_subject": lambda: forge(owner_claims, sub="not-a-uuid"),
        "unknown_subject": lambda: forge(owner_claims, sub="00000000-0000-4000-8000-000000000000"),
        "old_version": lambda: forge(owner_claims, ver=owner_claims.get("ver", 0) + 1),
    }[case]()
    response = _me(tenant, token)
    assert response.status_code == 401, response.json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert token not in response.get_data(as_text=True)


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "typ"])
def test_each_required_claim_is_required(tenant, owner_claims, claim):
    response = _me(tenant, forge(owner_claims, drop=[claim]))
    assert response.status_code == 401
    assert "message" in response.json


def test_tampered_signature_and_garbage_are_401(tenant, owner_claims):
    token = forge(owner_claims)
    header, payload, signature = token.split(".")
    tampered_payload = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in (f"{header}.{payload}.{signature[::-1]}", f"{header}.{tampered_payload}.{signature}",
                "garbage", "a.b.c", token + "x"):
        assert _me(tenant, bad).status_code == 401, bad


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc"])
def test_malformed_authorization_headers_are_401(tenant, header):
    response = tenant.anonymous().get(ME, headers={"Authorization": header})
    assert response.status_code == 401


def test_bearer_and_api_key_together_are_401(tenant):
    response = tenant.as_role("owner").get(ME, headers={"X-API-Key": "tnt_whatever-value-here"})
    assert response.status_code == 401


def test_platform_token_on_a_tenant_route_is_401(tenant, platform_admin):
    response = tenant.anonymous().with_token(platform_admin.token).get(ME)
    assert response.status_code == 401


def test_tenant_token_on_a_platform_route_is_401(tenant, platform):
    response = platform.with_token(tenant.token("owner")).get("/api/v1/platform/tenants")
    assert response.status_code == 401


def test_tenant_claim_must_match_the_host(make_tenant):
    first, second = make_tenant(), make_tenant()
    response = second.anonymous().with_token(first.token("owner")).get(ME)
    assert response.status_code == 403
    assert response.json["message"] == "token belongs to another tenant"


def test_forged_tenant_claim_of_another_tenant_is_refused(make_tenant, owner_claims, tenant):
    # A token signed by us but claiming the other tenant: the subject does not exist there.
    other = make_tenant()
    token = forge(owner_claims, tid=str(other.id))
    assert _me(tenant, token).status_code == 403  # claim != host
    assert _me(other, token).status_code == 401  # no such user in that tenant


# --------------------------------------------------------------------------- rotation


@pytest.fixture(scope="module")
def rotated_apps(database):
    """An app that rotated JWT_SECRET (keeping the old one as previous), and one that did
    not keep it."""
    apps = {
        "rotated": create_app(app_config(database, JWT_SECRET=OTHER_SECRET,
                                         JWT_PREVIOUS_SECRET=JWT_SECRET)),
        "forgetful": create_app(app_config(database, JWT_SECRET=OTHER_SECRET)),
    }
    yield apps
    for application in apps.values():
        with application.app_context():
            db.engine.dispose()


def test_previous_secret_stays_valid_by_kid(app, tenant, rotated_apps):
    old_token = tenant.token("owner")
    rotated = HostClient(rotated_apps["rotated"].test_client(), tenant.host)
    assert rotated.with_token(old_token).get(ME).status_code == 200
    forgetful = HostClient(rotated_apps["forgetful"].test_client(), tenant.host)
    assert forgetful.with_token(old_token).get(ME).status_code == 401

    # Tokens issued after the rotation carry the new kid and are signed with the new secret.
    login = rotated.post("/api/v1/auth/login", json={"email": tenant.users["owner"],
                                                     "password": "correct-horse-battery"})
    new_token = login.json["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(OTHER_SECRET)
    assert rotated.with_token(new_token).get(ME).status_code == 200
    # The app still on the old secret does not know the new kid.
    assert tenant.anonymous().with_token(new_token).get(ME).status_code == 401


def test_platform_tokens_rotate_too(platform_admin, rotated_apps):
    rotated = HostClient(rotated_apps["rotated"].test_client(), PLATFORM_HOST,
                         token=platform_admin.token)
    assert rotated.get("/api/v1/platform/tenants").status_code == 200
    forgetful = HostClient(rotated_apps["forgetful"].test_client(), PLATFORM_HOST,
                           token=platform_admin.token)
    assert forgetful.get("/api/v1/platform/tenants").status_code == 401
