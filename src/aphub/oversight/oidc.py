"""People signing in to /oversight with their organisation's own identity provider: the
OpenID Connect authorisation code flow with PKCE (S256), state and nonce.

Starting, the hub makes a code verifier, a state and a nonce, keeps them in a short-lived
cookie signed with its own key (HttpOnly; SameSite=Lax, since it must come back with the
provider's redirect, which is a navigation from another site) and sends the browser to
the provider. Coming back, the state must match the cookie's before anything else is done;
the code is exchanged (with the verifier) at the provider's token endpoint; the ID token
must verify with the provider's published keys, name the hub's client as its audience and
carry the nonce. The organisation it names must have admitted the provider (the same
client record its access tokens need), and be of a type that signs in to oversight.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from pydantic import Field
from starlette.requests import Request

from aphub.api.requests import QueryParams
from aphub.auth.clients import ClientRecords
from aphub.auth.external import verify_issued
from aphub.auth.issuers import IssuerConfig, Issuers
from aphub.auth.keys import ALGORITHM
from aphub.auth.signed import Refused
from aphub.auth.tokens import TokenService
from aphub.oversight.sessions import SIGN_IN_TYPES, SignIn

FLOW_COOKIE = "aphub_oidc"
FLOW_SECONDS = 600
_FLOW_AUDIENCE = "aphub:oversight-sign-in"
_MAX_TOKEN_ANSWER = 64 * 1024


class SignInFailed(Exception):
    """The sign-in cannot go on; the message is for the person, the status for the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class CallbackQuery(QueryParams):
    """What a provider sends back (RFC 6749 §4.1.2, RFC 9207's `iss`, OIDC's
    `session_state`)."""

    code: str | None = Field(None, max_length=4096)
    state: str | None = Field(None, max_length=512)
    error: str | None = Field(None, max_length=200)
    error_description: str | None = Field(None, max_length=2000)
    error_uri: str | None = Field(None, max_length=2000)
    iss: str | None = Field(None, max_length=500)
    session_state: str | None = Field(None, max_length=500)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def redirect_uri(request: Request) -> str:
    public_url = request.app.state.settings.public_url
    base = public_url.rstrip("/") if public_url else f"{request.url.scheme}://{request.url.netloc}"
    return f"{base}/oversight/callback"


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the signed cookie that remembers the flow."""

    location: str
    flow_cookie: str


def start(request: Request, issuer: IssuerConfig) -> Started:
    sign_in = issuer.sign_in
    if sign_in is None:
        raise SignInFailed("People do not sign in with that provider", 404)
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    tokens: TokenService = request.app.state.tokens
    now = int(time.time())
    flow = jwt.encode(
        {
            "aud": _FLOW_AUDIENCE,
            "iat": now,
            "exp": now + FLOW_SECONDS,
            "idp": issuer.name,
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
        },
        tokens.key.private_key,
        ALGORITHM,
        headers={"kid": tokens.key.kid},
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sign_in.client_id,
            "redirect_uri": redirect_uri(request),
            "scope": sign_in.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in sign_in.authorization_endpoint else "?"
    return Started(f"{sign_in.authorization_endpoint}{separator}{query}", flow)


def _flow(request: Request) -> dict[str, Any]:
    """The flow this browser started, from its signed cookie."""
    value = request.cookies.get(FLOW_COOKIE)
    tokens: TokenService = request.app.state.tokens
    try:
        kid = jwt.get_unverified_header(value or "").get("kid")
        key = tokens.keys.verifying(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidTokenError("unknown key")
        flow: dict[str, Any] = jwt.decode(
            value or "", key.public_key, algorithms=[ALGORITHM], audience=_FLOW_AUDIENCE
        )
    except jwt.PyJWTError:
        raise SignInFailed(
            "This sign-in was not started here or has expired: please start again"
        ) from None
    return flow


def _same(given: str | None, expected: Any) -> bool:
    return (
        isinstance(given, str)
        and isinstance(expected, str)
        and hmac.compare_digest(given.encode(), expected.encode())
    )


async def finish(request: Request, query: CallbackQuery) -> tuple[SignIn, IssuerConfig]:
    """Who signed in, once every check of the module has passed."""
    flow = _flow(request)
    issuers: Issuers = request.app.state.external.issuers
    issuer = issuers.by_name.get(str(flow.get("idp")))
    if issuer is None or issuer.sign_in is None:
        raise SignInFailed("That identity provider is no longer configured")
    if not _same(query.state, flow.get("state")):
        raise SignInFailed("The sign-in's state does not match the one started here")
    if query.iss is not None and query.iss != issuer.issuer:
        raise SignInFailed("The answer comes from another identity provider")
    if query.error is not None or not query.code:
        raise SignInFailed("The identity provider did not sign you in", 401)
    id_token = await _exchange(request, issuer, query.code, str(flow.get("verifier")))
    try:
        claims = await verify_issued(
            request.app.state.jwks,
            id_token,
            issuer,
            audience=issuer.sign_in.client_id,
            require=("exp", "iat", "sub", "nonce"),
        )
    except Refused as refused:
        raise SignInFailed(f"The identity provider's ID token {refused}", 401) from None
    audience = claims.get("aud")
    if (
        isinstance(audience, list)
        and len(audience) > 1
        and claims.get("azp") != (issuer.sign_in.client_id)
    ):
        raise SignInFailed("The ID token was issued to another client", 401)
    if not _same(claims.get("nonce"), flow.get("nonce")):
        raise SignInFailed("The ID token's nonce does not match this sign-in", 401)
    return await _admitted(request, issuer, claims), issuer


async def _exchange(request: Request, issuer: IssuerConfig, code: str, verifier: str) -> str:
    sign_in = issuer.sign_in
    assert sign_in is not None
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(request),
        "client_id": sign_in.client_id,
        "code_verifier": verifier,
    }
    if sign_in.client_secret:
        form["client_secret"] = sign_in.client_secret
    http: httpx.AsyncClient = request.app.state.http
    try:
        status, content = await _post_bounded(http, sign_in.token_endpoint, form)
        body = json.loads(content) if content is not None else None
    except (httpx.HTTPError, ValueError):
        raise SignInFailed("The identity provider cannot be reached just now", 502) from None
    id_token = body.get("id_token") if isinstance(body, dict) else None
    if status != 200 or not isinstance(id_token, str):
        raise SignInFailed("The identity provider refused the sign-in", 401)
    return id_token


async def _post_bounded(
    http: httpx.AsyncClient, url: str, form: dict[str, str]
) -> tuple[int, bytes | None]:
    """The status and body of the provider's answer, the body read no further than
    `_MAX_TOKEN_ANSWER` (None beyond it): a provider is trusted to sign people in, not to
    make the hub hold whatever it sends."""
    headers = {"Accept": "application/json"}
    async with http.stream("POST", url, data=form, headers=headers) as answer:
        body = bytearray()
        async for chunk in answer.aiter_bytes():
            body += chunk
            if len(body) > _MAX_TOKEN_ANSWER:
                return answer.status_code, None
        return answer.status_code, bytes(body)


async def _admitted(request: Request, issuer: IssuerConfig, claims: dict[str, Any]) -> SignIn:
    organisation = issuer.organisation_in(claims)
    if organisation is None:
        raise SignInFailed("Your account names no organisation the hub knows", 403)
    clients: ClientRecords = request.app.state.clients
    admitted = await clients.admitted(
        request.app.state.db, issuer.issuer, issuer.organisation_identifier, organisation
    )
    if admitted is None:
        raise SignInFailed(
            "Your organisation has not admitted this identity provider to the hub", 403
        )
    if admitted.organisation_type not in SIGN_IN_TYPES:
        raise SignInFailed("Oversight is for local authorities", 403)
    return SignIn(
        client_id=admitted.client_id,
        organisation_id=admitted.organisation_id,
        organisation_type=admitted.organisation_type,
        scopes=admitted.granted(issuer.scopes_in(claims)),
        method="oidc",
        issuer=issuer.issuer,
        subject=str(claims["sub"])[:255],
    )
