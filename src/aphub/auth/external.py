"""Access tokens of external OIDC issuers (aphub.auth.issuers): verified against the
issuer's published keys, then taken no further than the client record by which an
organisation admitted the issuer (aphub.auth.clients).

As with the hub's own tokens, a verified token's claims are kept until it expires, so the
signature is checked once per token, not once per request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from aphub.auth.issuers import IssuerConfig, Issuers
from aphub.auth.jwks import JwksCache
from aphub.auth.signed import Refused, decode, unverified_claims, unverified_header
from aphub.errors import Unauthorised

LEEWAY_SECONDS = 30
_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class ExternalClaims:
    """What a verified external token says: who issued it, about whom, for which
    organisation (as the issuer's configured identifier) and with which of the hub's
    scopes. The subject is a person's or a system's id at the issuer: never logged."""

    issuer: IssuerConfig
    subject: str
    organisation: str
    scopes: frozenset[str]
    expires_at: float


class ExternalTokens:
    def __init__(self, issuers: Issuers, jwks: JwksCache) -> None:
        self.issuers = issuers
        self.jwks = jwks
        self._cache: OrderedDict[str, ExternalClaims] = OrderedDict()

    def issuer_of(self, token: str) -> IssuerConfig | None:
        """The configured issuer a token says it comes from (not yet verified), or None."""
        if not self.issuers:
            return None
        try:
            iss = unverified_claims(token).get("iss")
        except Refused:
            return None
        return self.issuers.by_issuer.get(iss) if isinstance(iss, str) else None

    async def verify(self, token: str, issuer: IssuerConfig) -> ExternalClaims:
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at + LEEWAY_SECONDS > time.time():
                return cached
            del self._cache[token]
            raise Unauthorised("The access token has expired")
        try:
            verified = await self._verify(token, issuer)
        except Refused as refused:
            raise Unauthorised(f"The access token {refused}") from None
        self._cache[token] = verified
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return verified

    async def _verify(self, token: str, issuer: IssuerConfig) -> ExternalClaims:
        claims = await verify_issued(
            self.jwks, token, issuer, audience=issuer.audience, require=("exp", "sub")
        )
        organisation = issuer.organisation_in(claims)
        if organisation is None:
            raise Refused("names no organisation")
        return ExternalClaims(
            issuer=issuer,
            subject=str(claims["sub"]),
            organisation=organisation,
            scopes=issuer.scopes_in(claims),
            expires_at=float(claims["exp"]),
        )


async def verify_issued(
    jwks: JwksCache,
    token: str,
    issuer: IssuerConfig,
    *,
    audience: str,
    require: tuple[str, ...],
) -> dict[str, Any]:
    """The claims of a token the issuer signed (an access token, or a person's ID token),
    verified with the issuer's published keys."""
    kid, alg = unverified_header(token)
    if alg not in issuer.algorithms:
        raise Refused("is signed with an algorithm not accepted")
    key = await jwks.key(issuer.jwks_uri, kid, alg)
    if key is None:
        raise Refused("is signed by a key its issuer does not publish")
    return decode(
        token,
        key,
        alg=alg,
        audience=audience,
        issuer=issuer.issuer,
        leeway=LEEWAY_SECONDS,
        require=("iss", "aud", *require),
    )
