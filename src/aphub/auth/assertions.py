"""private_key_jwt: a client authenticating at the token endpoint with an assertion it
signs with its own private key (RFC 7523 §2.2 and §3, OpenID Connect Core §9), as NHS
England's APIs ask of their clients: the hub holds no secret of the client's at all.

The assertion's `iss` and `sub` are the client id; its `aud` is the token endpoint's URL
(or the hub's issuer name); it expires within five minutes and carries a `jti` used once.
It is signed RS256, PS256 or ES256 with a key the client registered inline or publishes
at its `jwks_uri` (fetched and cached as an issuer's keys are, aphub.auth.jwks). A `jti`
is kept until its assertion expires, so a replayed assertion is refused whichever worker
receives it; expired ones are deleted by the hourly job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import jwt

from aphub.auth.jwks import JwksCache, select_key, usable_keys
from aphub.auth.service import AuthenticatedClient
from aphub.auth.signed import Refused, decode, unverified_claims, unverified_header
from aphub.db import ReadUnit

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS256", "PS256", "ES256")
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 15
MAX_JTI_LENGTH = 255

_CLIENT = (
    "SELECT c.client_id, c.organisation_id, o.type AS organisation_type, c.scopes, "
    "c.jwks_uri, c.jwks FROM api_clients c JOIN organisations o ON o.id = c.organisation_id "
    "WHERE c.client_id = :client_id AND c.authentication = 'private_key_jwt' "
    "AND c.revoked_at IS NULL AND c.approved_at IS NOT NULL AND o.active"
)
# The read unit's role may insert here, as into the access log: a record of access.
_REMEMBER_JTI = (
    "INSERT INTO client_assertions (client_id, jti, expires_at) "
    "VALUES (:client_id, :jti, to_timestamp(:expires_at)) "
    "ON CONFLICT DO NOTHING RETURNING true"
)
EXPIRE_JTIS = "DELETE FROM client_assertions WHERE expires_at < now()"


class AssertionRefused(Exception):
    """The assertion does not authenticate its client; the message says why."""


async def authenticate_assertion(
    unit: ReadUnit,
    jwks: JwksCache,
    assertion: str,
    *,
    client_id: str | None,
    audiences: Sequence[str],
) -> AuthenticatedClient:
    try:
        return await _authenticate(unit, jwks, assertion, client_id, audiences)
    except Refused as refused:
        raise AssertionRefused(f"The client assertion {refused}") from None


async def _authenticate(
    unit: ReadUnit,
    jwks: JwksCache,
    assertion: str,
    client_id: str | None,
    audiences: Sequence[str],
) -> AuthenticatedClient:
    kid, alg = unverified_header(assertion)
    said = unverified_claims(assertion)
    issuer = said.get("iss")
    if not isinstance(issuer, str) or not issuer or said.get("sub") != issuer:
        raise Refused("must name the client id as both iss and sub")
    if client_id and client_id != issuer:
        raise Refused("names another client than client_id")
    row = await unit.fetchrow(_CLIENT, client_id=issuer)
    if row is None:
        raise AssertionRefused("Unknown client, or one that does not authenticate by key")
    if alg not in ALGORITHMS:
        raise Refused(f"must be signed with {', '.join(ALGORITHMS)}")
    key = await _key(jwks, row, kid, alg)
    if key is None:
        raise Refused("is signed by a key the client has not registered")
    claims = decode(
        assertion,
        key,
        alg=alg,
        audience=list(audiences),
        issuer=issuer,
        leeway=LEEWAY_SECONDS,
        require=("iss", "sub", "aud", "exp", "jti"),
    )
    expires_at = float(claims["exp"])
    if expires_at > time.time() + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise Refused(f"must expire within {MAX_LIFETIME_SECONDS} seconds")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise Refused(f"must carry a jti of 1 to {MAX_JTI_LENGTH} characters")
    # kept past the leeway too, so an assertion never outlives the record of its use
    first_use = await unit.fetchval(
        _REMEMBER_JTI, client_id=issuer, jti=jti, expires_at=expires_at + LEEWAY_SECONDS
    )
    if not first_use:
        raise Refused("has been used before (its jti is spent): sign a new one")
    return AuthenticatedClient(
        client_id=row["client_id"],
        organisation_id=row["organisation_id"],
        organisation_type=row["organisation_type"],
        scopes=list(row["scopes"]),
    )


async def _key(jwks: JwksCache, row: Any, kid: str | None, alg: str) -> jwt.PyJWK | None:
    if row["jwks"] is not None:
        return select_key(usable_keys(row["jwks"]), kid, alg)
    return await jwks.key(row["jwks_uri"], kid, alg, registered=True)
