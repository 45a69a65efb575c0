"""Who is calling: the principal every route and resolver receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2

from aphub.auth.clients import ClientRecords
from aphub.auth.external import ExternalTokens
from aphub.auth.issuers import IssuerConfig
from aphub.auth.rate_limit import RateLimiter
from aphub.auth.scopes import SCOPES
from aphub.auth.tokens import TokenService
from aphub.errors import Forbidden, RateLimited, Unauthorised


@dataclass(frozen=True, slots=True)
class Principal:
    """The organisation acting, through which client, with which scopes. A caller signed
    in through an external issuer also names the issuer (`iss`) and its subject there
    (`sub`: a system's or a person's id at the issuer, never written to the logs); its
    `client_id` is the record by which the organisation admitted that issuer."""

    organisation_id: uuid.UUID
    organisation_type: str
    client_id: str
    scopes: frozenset[str]
    issuer: str | None = None
    subject: str | None = None

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
    once against its client's rate limit: a token of the hub's own, or of an external
    issuer configured and admitted by the caller's organisation."""
    tokens: TokenService = request.app.state.tokens
    external: ExternalTokens = request.app.state.external
    if external.issuers and not tokens.knows(token):
        issuer = external.issuer_of(token)
        if issuer is not None:
            return await _external_principal(request, token, issuer)
    claims = tokens.verify(token)
    clients: ClientRecords = request.app.state.clients
    await clients.check(request.app.state.db, claims)
    await _count(request, claims.client_id)
    return Principal(
        organisation_id=claims.organisation_id,
        organisation_type=claims.organisation_type,
        client_id=claims.client_id,
        scopes=claims.scopes,
    )


async def _external_principal(request: Request, token: str, issuer: IssuerConfig) -> Principal:
    external: ExternalTokens = request.app.state.external
    verified = await external.verify(token, issuer)
    clients: ClientRecords = request.app.state.clients
    admitted = await clients.admitted(
        request.app.state.db, issuer.issuer, issuer.organisation_identifier, verified.organisation
    )
    if admitted is None:
        raise Unauthorised(
            "The access token's organisation has not admitted its issuer, or has revoked it"
        )
    await _count(request, admitted.client_id)
    return Principal(
        organisation_id=admitted.organisation_id,
        organisation_type=admitted.organisation_type,
        client_id=admitted.client_id,
        scopes=admitted.granted(verified.scopes),
        issuer=issuer.issuer,
        subject=verified.subject,
    )


async def _count(request: Request, client_id: str) -> None:
    """Name the client for the logs and the RateLimit headers, and count the request once
    against its limit (shared by every worker and instance)."""
    state = request.scope.setdefault("state", {})
    state["client_id"] = client_id
    limiter: RateLimiter = request.app.state.rate_limiter
    if limiter.enabled:
        try:
            state["rate_limit"] = await limiter.check(client_id, request.app.state.db)
        except RateLimited as refused:
            state["rate_limit"] = refused.quota
            raise


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised("Send the access token as `Authorization: Bearer <token>`")
    return token.strip()
