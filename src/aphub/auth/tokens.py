"""Issuing and verifying access tokens.

Verification is the largest fixed cost of a read (performance.md), so a verified
token's claims are cached until the token expires. The cache is bounded and keyed by
the whole token, so a token differing in any byte is verified afresh.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from aphub.auth.keys import ALGORITHM, KeyRing, SigningKey
from aphub.errors import Unauthorised

_LEEWAY_SECONDS = 30
_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Claims:
    client_id: str
    organisation_id: uuid.UUID
    organisation_type: str
    scopes: frozenset[str]
    expires_at: float


class TokenService:
    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._cache: OrderedDict[str, Claims] = OrderedDict()

    @property
    def key(self) -> SigningKey:
        """The key that signs."""
        return self.keys.current

    def issue(
        self,
        *,
        client_id: str,
        organisation_id: uuid.UUID,
        organisation_type: str,
        scopes: list[str],
    ) -> tuple[str, int]:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            "org": str(organisation_id),
            "org_type": organisation_type,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(payload, self.key.private_key, ALGORITHM, headers={"kid": self.key.kid})
        return token, self.ttl_seconds

    def knows(self, token: str) -> bool:
        """Whether this token was verified here already (and is still held)."""
        return token in self._cache

    def verify(self, token: str) -> Claims:
        cached = self._cache.get(token)
        now = time.time()
        if cached is not None:
            if cached.expires_at + _LEEWAY_SECONDS > now:
                return cached
            del self._cache[token]
            raise Unauthorised("The access token has expired")
        claims = self._decode(token)
        self._cache[token] = claims
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return claims

    def _decode(self, token: str) -> Claims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthorised("The access token is malformed") from None
        key = self.keys.verifying(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthorised("The access token is signed by a key this hub does not know")
        try:
            # Only ES256 with our key: `alg: none` and HMAC-with-the-public-key are refused.
            payload = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "org"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorised("The access token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorised("The access token is not yet valid") from None
        except jwt.InvalidAudienceError:
            raise Unauthorised("The access token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthorised("The access token is from another issuer") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthorised(
                "The access token is signed with an algorithm not accepted"
            ) from None
        except jwt.InvalidSignatureError:
            raise Unauthorised("The access token signature does not verify") from None
        except jwt.PyJWTError:
            raise Unauthorised("The access token is malformed") from None
        try:
            organisation_id = uuid.UUID(str(payload["org"]))
        except ValueError:
            raise Unauthorised("The access token names no valid organisation") from None
        return Claims(
            client_id=str(payload["sub"]),
            organisation_id=organisation_id,
            organisation_type=str(payload.get("org_type", "")),
            scopes=frozenset(str(payload.get("scope", "")).split()),
            expires_at=float(payload["exp"]),
        )
