"""JWTs for tenant users and platform admins (HS256, fixed algorithm, rotation by ``kid``).

Two audiences keep the two kinds apart: a platform token never verifies as a tenant token and
vice versa. ``kid`` names the secret that signed a token (a short digest of it, not the secret):
tokens signed with JWT_PREVIOUS_SECRET stay valid while that variable is set.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
TENANT_AUDIENCE = "tenantry:tenant"
PLATFORM_AUDIENCE = "tenantry:platform"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "typ"]
LEEWAY_SECONDS = 5
# Tokens already verified by this signer, with their claims: a client sends the same token
# on every request, and checking an HS256 signature and eight claims each time is most of the
# cost of authentication. Only verified tokens enter it; "exp" is checked on every use.
VERIFIED_CACHE_SIZE = 10_000


class TokenError(Exception):
    """The token is not acceptable; the message is safe to show (it never echoes the token)."""


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TokenSigner:
    secret: str
    issuer: str
    ttl_seconds: int
    previous_secret: str | None = None
    _verified: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False,
                                                 compare=False)

    def _secrets(self) -> dict[str, str]:
        secrets = {key_id(self.secret): self.secret}
        if self.previous_secret:
            secrets[key_id(self.previous_secret)] = self.previous_secret
        return secrets

    def issue(self, *, typ: str, subject: uuid.UUID | str, tenant_id: uuid.UUID | None = None,
              extra: dict[str, Any] | None = None) -> tuple[str, datetime]:
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.ttl_seconds)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": TENANT_AUDIENCE if typ == "tenant" else PLATFORM_AUDIENCE,
            "sub": str(subject),
            "typ": typ,
            "iat": now,
            "exp": expires,
            "jti": uuid.uuid4().hex,
            **(extra or {}),
        }
        if typ == "tenant":
            claims["tid"] = str(tenant_id)
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM,
                           headers={"kid": key_id(self.secret)})
        return token, expires

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a valid tenant or platform token; TokenError otherwise."""
        claims = self._verified.get(token)
        if claims is not None:
            if claims["exp"] + LEEWAY_SECONDS < time.time():
                self._verified.pop(token, None)
                raise TokenError("token expired")
            return dict(claims)
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()  # crude but bounded, like core.cache
        self._verified[token] = claims
        return dict(claims)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenError("malformed token") from exc
        secret = self._secrets().get(header.get("kid", ""))
        if secret is None:
            raise TokenError("token signed with an unknown key")
        try:
            claims = jwt.decode(
                token, secret, algorithms=[ALGORITHM], issuer=self.issuer,
                audience=[TENANT_AUDIENCE, PLATFORM_AUDIENCE],
                options={"require": REQUIRED_CLAIMS}, leeway=LEEWAY_SECONDS)
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        expected_audience = {"tenant": TENANT_AUDIENCE, "platform": PLATFORM_AUDIENCE}.get(
            claims["typ"])
        if expected_audience is None or claims["aud"] != expected_audience:
            raise TokenError("invalid token: typ and aud disagree")
        if claims["typ"] == "tenant":
            try:
                claims["tid"] = uuid.UUID(str(claims.get("tid")))
            except ValueError as exc:
                raise TokenError("invalid token: tenant claim missing or malformed") from exc
        return claims
