"""Reading JWTs signed by others: an external issuer's access and ID tokens, and a
client's private_key_jwt assertions. One place decides what is refused and says why, in
words a caller can act on and that quote nothing from the token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jwt


class Refused(Exception):
    """A signed token refused; the message says why."""


def unverified_header(token: str) -> tuple[str | None, str]:
    """The key id (if any) and the algorithm a token says it is signed with."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Refused("is malformed") from None
    kid, alg = header.get("kid"), header.get("alg")
    if not isinstance(alg, str) or (kid is not None and not isinstance(kid, str)):
        raise Refused("is malformed")
    return kid, alg


def unverified_claims(token: str) -> dict[str, Any]:
    """What a token says, before anything is checked: only to choose how to check it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Refused("is malformed") from None
    if not isinstance(claims, dict):
        raise Refused("is malformed")
    return claims


def decode(
    token: str,
    key: jwt.PyJWK,
    *,
    alg: str,
    audience: str | Sequence[str],
    issuer: str,
    leeway: float,
    require: Sequence[str],
) -> dict[str, Any]:
    """The claims of `token`, verified: signed with `key` by `alg` (the one algorithm the
    key may verify that the token names), for `audience`, from `issuer`, within its
    validity (exp, nbf and a future iat all checked, with `leeway`)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": list(require)},
        )
    except jwt.ExpiredSignatureError:
        raise Refused("has expired") from None
    except jwt.ImmatureSignatureError:
        raise Refused("is not yet valid") from None
    except jwt.InvalidAudienceError:
        raise Refused("is for another audience") from None
    except jwt.InvalidIssuerError:
        raise Refused("is from another issuer") from None
    except jwt.MissingRequiredClaimError as missing:
        raise Refused(f"lacks the claim {missing.claim}") from None
    except jwt.InvalidAlgorithmError:
        raise Refused("is signed with an algorithm not accepted") from None
    except jwt.InvalidSignatureError:
        raise Refused("has a signature that does not verify") from None
    except jwt.PyJWTError:
        raise Refused("is malformed") from None
    return claims
