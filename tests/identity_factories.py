"""A stub OpenID Connect provider and key-holding clients, for the external identity tests.

The provider lives in the test process and is reached only through an httpx
MockTransport installed as the hub's outbound client: its JWKS and token endpoints answer
from memory, and anything else the hub tried to reach would fail the test. No packet
leaves the machine, not even to the loopback interface.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from aphub.auth.external import ExternalTokens
from aphub.auth.issuers import load_issuers
from aphub.auth.jwks import JwksCache
from aphub.auth.service import AdmittedIssuer, IssuedClient, create_client
from aphub.db import Database
from aphub.events.log import Actor
from aphub.main import outbound_http
from aphub.models import Organisation

ISSUER = "https://idp.test/realms/area"
JWKS_URI = "https://idp.test/realms/area/certs"
TOKEN_ENDPOINT = "https://idp.test/realms/area/token"
AUTHORIZATION_ENDPOINT = "https://idp.test/realms/area/auth"
AUDIENCE = "aphub-api"
SIGN_IN_CLIENT = "aphub-oversight"
PUBLIC_ADDRESS = "151.101.0.1"  # any address on the public internet

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "use": "sig"}


def new_key(kind: str = "RSA") -> PrivateKey:
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Grant:
    """An authorisation code the provider handed out, and what it was bound to."""

    challenge: str
    method: str
    redirect_uri: str
    nonce: str
    claims: dict[str, Any]


@dataclass
class StubProvider:
    """An OIDC provider: signs tokens, publishes its keys, exchanges codes (checking PKCE).
    `routes` lets other hosts answer too (a client's own JWKS)."""

    name: str = "area-idp"
    keys: dict[str, PrivateKey] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    jwks_fetches: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)
    routes: dict[str, Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)
    jwks_down: bool = False
    addresses: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signing_kid = self.add_key("RSA")

    def add_key(self, kind: str = "RSA", *, publish: bool = True) -> str:
        kid = f"{kind.lower()}-{secrets.token_hex(4)}"
        self.keys[kid] = new_key(kind)
        if publish:
            self.published.append(kid)
        return kid

    def config(self, **overrides: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "name": self.name,
            "issuer": ISSUER,
            "jwks_uri": JWKS_URI,
            "audience": AUDIENCE,
            "organisation_claim": "la_code",
            "organisation_identifier": "la_code",
            "scopes_claim": "scope",
            "sign_in": {
                "authorization_endpoint": AUTHORIZATION_ENDPOINT,
                "token_endpoint": TOKEN_ENDPOINT,
                "client_id": SIGN_IN_CLIENT,
                "client_secret": "stub-secret",
                "label": "Area Keycloak",
            },
        }
        config.update(overrides)
        return config

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, alg: str = "") -> str:
        kid = kid or self.signing_kid
        key = self.keys[kid]
        alg = alg or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        return jwt.encode(claims, key, alg, headers={"kid": kid})

    def access_token(self, *, kid: str | None = None, alg: str = "", **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"user-{uuid.uuid4().hex}",
            "iat": now,
            "exp": now + 300,
            "scope": "providers:read",
        }
        payload.update(claims)
        return self.sign({k: v for k, v in payload.items() if v is not None}, kid=kid, alg=alg)

    def authorise(self, location: str, **claims: Any) -> tuple[str, str]:
        """The browser at the provider: the person signs in; the code and state the
        provider sends back."""
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZATION_ENDPOINT
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["response_type"] == "code"
        assert query["client_id"] == SIGN_IN_CLIENT
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            challenge=query["code_challenge"],
            method=query["code_challenge_method"],
            redirect_uri=query["redirect_uri"],
            nonce=query["nonce"],
            claims=claims,
        )
        return code, query["state"]

    def _jwks(self) -> httpx.Response:
        self.jwks_fetches += 1
        if self.jwks_down:
            return httpx.Response(503)
        keys = [public_jwk(self.keys[kid], kid) for kid in self.published]
        return httpx.Response(200, json={"keys": keys})

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_requests.append(form)
        grant = self.grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant.redirect_uri
            or form.get("client_secret") != "stub-secret"
            or grant.method != "S256"
            or expected != grant.challenge
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": SIGN_IN_CLIENT,
            "sub": f"person-{uuid.uuid4().hex}",
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **grant.claims,
        }
        id_token = self.sign({k: v for k, v in claims.items() if v is not None})
        return httpx.Response(200, json={"id_token": id_token, "token_type": "Bearer"})

    async def resolve(self, host: str) -> list[str]:
        """The hub's look-up of a client's JWKS host: a public address unless the test
        points the name elsewhere (`addresses`). Nothing is sent to it: the transport is
        the stub's."""
        return self.addresses.get(host, [PUBLIC_ADDRESS])

    async def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        if url in self.routes:
            return self.routes[url](request)
        if url == JWKS_URI and request.method == "GET":
            # answer as a server would, later: requests arriving meanwhile must wait for
            # this fetch rather than make their own
            await asyncio.sleep(0.01)
            return self._jwks()
        if url == TOKEN_ENDPOINT and request.method == "POST":
            return self._token(request)
        raise AssertionError(f"the hub reached for {request.method} {url}")


@contextmanager
def provider_installed(
    app: FastAPI, provider: StubProvider, *configs: dict[str, Any]
) -> Iterator[JwksCache]:
    """The app trusting `provider` (with `configs`, or the provider's own) for the block,
    its outbound requests answered by the provider alone; the app as it was afterwards."""
    saved = (app.state.http, app.state.jwks, app.state.external)
    issuers = load_issuers(
        json.dumps(list(configs) or [provider.config()]),
        own_issuer=app.state.settings.issuer,
    )
    http = outbound_http(httpx.MockTransport(provider.handle))
    jwks = JwksCache(http, resolver=provider.resolve)
    app.state.http, app.state.jwks = http, jwks
    app.state.external = ExternalTokens(issuers, jwks)
    app.state.clients.forget()
    try:
        yield jwks
    finally:
        app.state.http, app.state.jwks, app.state.external = saved
        app.state.clients.forget()


def install_provider(app: FastAPI, provider: StubProvider) -> Callable[[], None]:
    """`provider_installed`, for a caller that undoes it later itself."""
    manager = provider_installed(app, provider)
    manager.__enter__()
    return lambda: manager.__exit__(None, None, None)


def form_token(html: str) -> str:
    """The CSRF token of the form in a page."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


async def admit(
    database: Database, organisation: Organisation, scopes: list[str] | None = None
) -> IssuedClient:
    """The organisation admits the stub provider (as its admin or the operator would)."""
    async with database.writing() as uow:
        return await create_client(
            uow,
            organisation.id,
            "Area Keycloak",
            scopes,
            Actor.system("test"),
            AdmittedIssuer(ISSUER),
        )


async def secret_client(
    database: Database, organisation: Organisation, scopes: list[str] | None = None
) -> IssuedClient:
    async with database.writing() as uow:
        return await create_client(uow, organisation.id, "officer", scopes, Actor.system("test"))


async def sign_in_with_secret(client: httpx.AsyncClient, issued: IssuedClient) -> httpx.Response:
    """The sign-in page, then its form sent with the client's id and secret."""
    page = await client.get("/oversight/sign-in")
    assert page.status_code == 200, page.text
    form = {
        "csrf_token": form_token(page.text),
        "client_id": issued.client.client_id,
        "client_secret": issued.client_secret or "",
    }
    return await client.post("/oversight/sign-in", data=form)
