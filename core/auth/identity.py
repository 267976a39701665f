"""Who is calling: the credentials of a request turned into an ``Identity``.

Accepted credentials: ``Authorization: Bearer <tenant JWT | platform JWT | BOOTSTRAP_TOKEN>``
and ``X-API-Key: <key>``. Credentials that are present but wrong answer 401 at once, with one
message per kind so that nothing tells a revoked key from an unknown one. On a platform host an
API key names its own tenant; on a tenant host the credential's tenant must be the host's (403).
"""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import select, update

from core.app_state import app_state
from core.auth.apikeys import ApiKeyMatch, find_live_key, hash_key, looks_like_key
from core.auth.tokens import TokenError, TokenSigner
from core.errors import Forbidden, Unauthorized
from core.extensions import db
from core.models import ApiKey, PlatformUser, User
from core.rls import bind_tenant
from core.tenancy import PLATFORM, require_serving, tenancy

log = logging.getLogger("tenantry.auth")

USER = "user"  # a tenant user with a tenant JWT
API_KEY = "api_key"
PLATFORM_ADMIN = "platform"
BOOTSTRAP = "bootstrap"

# last_used_at is refreshed at most this often: a write per request would cost more than the
# information is worth.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class Identity:
    kind: str  # USER | API_KEY | PLATFORM_ADMIN | BOOTSTRAP
    subject_id: str  # user id, key id, platform user id, or "bootstrap"
    role: str | None  # owner/admin/cashier for users, user/admin for keys
    tenant_id: uuid.UUID | None = None
    label: str | None = None  # e-mail or key label, for logs and created_by

    @property
    def is_tenant(self) -> bool:
        return self.kind in (USER, API_KEY)

    @property
    def is_platform(self) -> bool:
        return self.kind in (PLATFORM_ADMIN, BOOTSTRAP)

    @property
    def actor(self) -> str:
        """A short reference for created_by / audit columns."""
        return f"{self.kind}:{self.subject_id}"


def signer() -> TokenSigner:
    return app_state().signer


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return value.strip()


def _from_bearer(token: str) -> Identity:
    bootstrap = current_app.config.get("BOOTSTRAP_TOKEN")
    if bootstrap and hmac.compare_digest(token.encode(), bootstrap.encode()):
        return Identity(BOOTSTRAP, "bootstrap", None, label="bootstrap token")
    try:
        claims = signer().verify(token)
    except TokenError as exc:
        raise Unauthorized(str(exc)) from exc
    if claims["typ"] == "platform":
        try:
            user = db.session.get(PlatformUser, uuid.UUID(claims["sub"]))
        except ValueError:
            user = None
        if user is None or not user.active:
            raise Unauthorized("platform account is unknown or inactive")
        return Identity(PLATFORM_ADMIN, str(user.id), "platform", label=user.email)
    return _tenant_user(claims)


def _tenant_user(claims: dict) -> Identity:
    tenant_id = claims["tid"]
    if g.tenant is None or g.tenant.id != tenant_id:
        if g.host.kind == PLATFORM:
            raise Unauthorized("tenant tokens are valid only on their tenant's host")
        raise Forbidden("token belongs to another tenant")
    bind_tenant(tenant_id)
    try:
        user_id = uuid.UUID(claims["sub"])
    except ValueError as exc:
        raise Unauthorized("invalid token: bad subject") from exc
    row = tenancy().user_state(tenant_id, user_id, lambda: db.session.execute(
        select(User.role, User.active, User.token_version, User.email).where(User.id == user_id)
    ).first())
    if row is None or not row.active or row.token_version != claims.get("ver", 0):
        raise Unauthorized("token is no longer valid; log in again")
    return Identity(USER, str(user_id), row.role, tenant_id, label=row.email)


def _host_tenants_key(raw: str) -> ApiKeyMatch | None:
    """The live key on a tenant host, cached per worker (``Tenancy.api_key_state``) when it
    is the host tenant's; its expiry is read with it on a miss and checked on every hit."""
    tenant_id = g.tenant.id
    looked_up: list[ApiKeyMatch | None] = []  # the database's answer, when asked here

    def load() -> ApiKeyMatch | None:
        match = find_live_key(raw)
        looked_up.append(match)
        if match is None or match.tenant_id != tenant_id:
            return None  # nothing cached: unknown, dead, or another tenant's (refused below)
        expires_at = db.session.execute(
            select(ApiKey.expires_at).where(ApiKey.id == match.key_id)).scalar_one()
        return replace(match, expires_at=expires_at)

    if not looks_like_key(raw):
        return None
    cached = tenancy().api_key_state(tenant_id, hash_key(raw), load)
    if cached is not None and cached.live_at(datetime.now(UTC)):
        return cached
    # Not cached (the look-up's own answer), or cached and expired since: the database decides.
    return looked_up[0] if looked_up else find_live_key(raw)


def _from_api_key(raw: str) -> Identity:
    match = _host_tenants_key(raw) if g.tenant is not None else find_live_key(raw)
    if match is None:
        raise Unauthorized("invalid API key")
    if g.tenant is None:
        if g.host.kind != PLATFORM:
            raise Unauthorized("invalid API key")
        tenant = tenancy().by_id(match.tenant_id)
        if tenant is None:
            raise Unauthorized("invalid API key")
        require_serving(tenant)
        g.tenant = tenant
    elif g.tenant.id != match.tenant_id:
        raise Forbidden("API key belongs to another tenant")
    bind_tenant(match.tenant_id)
    _note_use(match)
    return Identity(API_KEY, str(match.key_id), match.role, match.tenant_id, label=match.label)


# key id -> when this process last wrote its last_used_at: a cached match's own value is the
# one from when it was cached, which would otherwise ask for a write on every request.
_LAST_WRITTEN: dict[uuid.UUID, datetime] = {}


def _note_use(match: ApiKeyMatch) -> None:
    """Refresh the key's last_used_at, at most once per LAST_USED_GRANULARITY per process."""
    now = datetime.now(UTC)
    seen = max(filter(None, (match.last_used_at, _LAST_WRITTEN.get(match.key_id))),
               default=None)
    if seen is None or now - seen > LAST_USED_GRANULARITY:
        db.session.execute(update(ApiKey).where(ApiKey.id == match.key_id)
                           .values(last_used_at=now))
        if len(_LAST_WRITTEN) >= 100_000:
            _LAST_WRITTEN.clear()  # bounded; the worst case is one extra write per key
        _LAST_WRITTEN[match.key_id] = now


def authenticate_request() -> None:
    """before_request: set ``g.identity`` (None when no credentials were sent)."""
    g.identity = None
    token = _bearer_token()
    raw_key = request.headers.get("X-API-Key")
    if token and raw_key:
        raise Unauthorized("send either a bearer token or an API key, not both")
    if token:
        g.identity = _from_bearer(token)
    elif raw_key is not None:
        g.identity = _from_api_key(raw_key.strip())
