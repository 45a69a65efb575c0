"""Who is calling: the principal every route and resolver receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2

from aphub.auth.clients import ClientRecords
from aphub.auth.rate_limit import RateLimiter
from aphub.auth.scopes import SCOPES
from aphub.auth.tokens import TokenService
from aphub.errors import Forbidden, RateLimited, Unauthorised


@dataclass(frozen=True, slots=True)
class Principal:
    organisation_id: uuid.UUID
    organisation_type: str
    client_id: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, *scopes: str) -> None:
        missing = [s for s in scopes if s not in self.scopes]
        if missing:
            raise Forbidden(f"This client lacks the scope {', '.join(missing)}")


oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/v1/oauth/token", scopes=SCOPES)
    ),
    scheme_name="oauth2",
    auto_error=False,
)


async def principal_from_token(request: Request, token: str) -> Principal:
    """The caller a bearer token names, checked against its client's record, and counted
    once against its client's rate limit."""
    tokens: TokenService = request.app.state.tokens
    claims = tokens.verify(token)
    clients: ClientRecords = request.app.state.clients
    await clients.check(request.app.state.db, claims)
    state = request.scope.setdefault("state", {})
    state["client_id"] = claims.client_id
    limiter: RateLimiter = request.app.state.rate_limiter
    if limiter.enabled:
        try:
            state["rate_limit"] = await limiter.check(claims.client_id, request.app.state.db)
        except RateLimited as refused:
            state["rate_limit"] = refused.quota
            raise
    return Principal(
        organisation_id=claims.organisation_id,
        organisation_type=claims.organisation_type,
        client_id=claims.client_id,
        scopes=claims.scopes,
    )


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised("Send the access token as `Authorization: Bearer <token>`")
    return token.strip()
