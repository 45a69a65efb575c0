"""External tokens end to end over a real socket: the issuer's keys served by an HTTP
server on 127.0.0.1 and fetched by the hub's own outbound client (no mock transport), so
the configuration an operator writes is the one proved. Also the refusals every caller
meets the same way: a token from an issuer nobody configured, or claiming `alg: none`,
is a 401 problem, never a 5xx or a pass."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.auth.external import ExternalTokens
from aphub.auth.issuers import load_issuers
from aphub.auth.jwks import REFETCH_SECONDS, JwksCache
from aphub.db import Database
from aphub.main import outbound_http
from tests.factories import auth, make_org
from tests.identity_factories import AUDIENCE, ISSUER, StubProvider, admit, provider_installed


@contextmanager
def jwks_served_on_loopback(provider: StubProvider) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 (a free port) publishing the provider's keys; its URL."""

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = provider._jwks()
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/jwk-set+json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/realms/area/certs"
    finally:
        server.shutdown()
        server.server_close()


@asynccontextmanager
async def trusting_loopback_issuer(
    app: FastAPI, provider: StubProvider, jwks_uri: str
) -> AsyncIterator[JwksCache]:
    """The app trusting the provider, its keys fetched from `jwks_uri` by a real client."""
    saved = (app.state.http, app.state.jwks, app.state.external)
    config = provider.config(jwks_uri=jwks_uri)
    issuers = load_issuers(json.dumps([config]), own_issuer=app.state.settings.issuer)
    http = outbound_http()
    jwks = JwksCache(http)
    app.state.http, app.state.jwks = http, jwks
    app.state.external = ExternalTokens(issuers, jwks)
    app.state.clients.forget()
    try:
        yield jwks
    finally:
        app.state.http, app.state.jwks, app.state.external = saved
        app.state.clients.forget()
        await http.aclose()


async def test_a_token_verified_with_keys_served_on_loopback_opens_the_api_and_follows_rotation(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    provider = StubProvider()
    la = await make_org(db, "local_authority", la_code="311")
    admission = (await admit(db, la)).client.client_id
    now = [1000.0]
    with jwks_served_on_loopback(provider) as jwks_uri:
        async with trusting_loopback_issuer(app, provider, jwks_uri) as keys:
            keys.clock = lambda: now[0]
            scope = "providers:read passports:read passports:write"
            token = provider.access_token(la_code="311", scope=scope)
            child = {
                "legal_first_name": "Grace",
                "legal_last_name": "Hopper",
                "date_of_birth": "2011-12-09",
                "home_la_id": str(la.id),
            }
            created = await client.post(
                "/v1/children", json=child, headers={**auth(token), "Idempotency-Key": "lb-1"}
            )
            assert created.status_code == 201, created.text
            assert provider.jwks_fetches == 1
            # read back through the sharing layer as the mapped LA (its home LA)
            r = await client.get(f"/v1/children/{created.json()['id']}", headers=auth(token))
            assert r.status_code == 200, r.text
            # the mapped scopes, and no other: placements:read was not asserted
            r = await client.get("/v1/placements", headers=auth(token))
            assert r.status_code == 403, r.text
            # the issuer rotates to a new key: picked up by one fetch from the server
            now[0] += REFETCH_SECONDS + 1
            provider.signing_kid = provider.add_key("EC")
            rotated = provider.access_token(la_code="311", scope="providers:read")
            r = await client.get("/v1/providers", headers=auth(rotated))
            assert r.status_code == 200, r.text
            assert provider.jwks_fetches == 2
    actor = await superuser.fetchrow(
        "SELECT actor_organisation_id, actor_client_id FROM events WHERE type = 'child.created'"
    )
    assert actor is not None
    assert (actor["actor_organisation_id"], actor["actor_client_id"]) == (la.id, admission)


def _unsigned(claims: dict[str, Any]) -> str:
    """A token claiming `alg: none`, with no signature at all."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "system-9", "exp": now + 300}
    return {**claims, "la_code": "312", "scope": "providers:read", **overrides}


@pytest.mark.parametrize(
    ("token_of", "reason"),
    [
        (lambda p: p.sign(_claims(iss="https://elsewhere.test/realm")), "unknown issuer"),
        (lambda p: _unsigned(_claims()), "alg none"),
        (lambda p: p.sign(_claims(aud="another-api")), "wrong audience"),
        (lambda p: p.sign(_claims(exp=int(time.time()) - 120)), "expired"),
    ],
    ids=["unknown-issuer", "alg-none", "wrong-audience", "expired"],
)
async def test_unknown_issuer_alg_none_wrong_audience_and_expiry_are_401_problems(
    client: httpx.AsyncClient, app: FastAPI, db: Database, token_of: Any, reason: str
) -> None:
    provider = StubProvider()
    await admit(db, await make_org(db, "local_authority", la_code="312"))
    with provider_installed(app, provider):
        fine = provider.sign(_claims())
        assert (await client.get("/v1/providers", headers=auth(fine))).status_code == 200
        r = await client.get("/v1/providers", headers=auth(token_of(provider)))
    assert r.status_code == 401, (reason, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_an_organisation_admitting_one_issuer_does_not_admit_another(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Two configured issuers (here even sharing keys): the LA admitted only the first, so
    the second's token naming the LA opens nothing."""
    provider = StubProvider()
    await admit(db, await make_org(db, "local_authority", la_code="312"))
    other = provider.config(name="other-idp", issuer="https://other.test/realm")
    with provider_installed(app, provider, provider.config(), other):
        admitted = provider.sign(_claims())
        assert (await client.get("/v1/providers", headers=auth(admitted))).status_code == 200
        stranger = provider.sign(_claims(iss="https://other.test/realm", sub="system-10"))
        r = await client.get("/v1/providers", headers=auth(stranger))
    assert r.status_code == 401, r.text
    assert "not admitted" in r.json()["detail"]
