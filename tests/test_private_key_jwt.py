"""private_key_jwt at the token endpoint (RFC 7523, the NHS pattern): a client holding no
shared secret obtains a token with an assertion signed by its private key; a replayed,
expired, not-yet-valid, long-lived or wrongly addressed assertion is refused with an
RFC 6749 error that is also a problem document."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from aphub import jobs
from aphub.auth.assertions import JWT_BEARER
from aphub.auth.service import IssuedClient, PublicKeys, create_client
from aphub.db import Database
from aphub.events.log import Actor
from aphub.models import Organisation
from tests.factories import auth, make_org, token_for
from tests.identity_factories import (
    PrivateKey,
    StubProvider,
    new_key,
    provider_installed,
    public_jwk,
)

TOKEN_URL = "/v1/oauth/token"
AUDIENCE = "http://hub/v1/oauth/token"  # the endpoint's URL as the test client reaches it
APHUB = Path(sys.executable).parent / "aphub"


async def key_client(
    db: Database,
    organisation: Organisation,
    key: PrivateKey,
    *,
    kid: str = "key-1",
    jwks_uri: str | None = None,
) -> IssuedClient:
    credentials = (
        PublicKeys(jwks_uri=jwks_uri)
        if jwks_uri
        else PublicKeys(jwks={"keys": [public_jwk(key, kid)]})
    )
    async with db.writing() as uow:
        return await create_client(
            uow, organisation.id, "MIS", None, Actor.system("test"), credentials
        )


def assertion(
    client_id: str, key: PrivateKey, *, kid: str = "key-1", alg: str = "RS256", **claims: Any
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
    }
    payload.update(claims)
    return jwt.encode(
        {k: v for k, v in payload.items() if v is not None}, key, alg, headers={"kid": kid}
    )


async def request_token(client: httpx.AsyncClient, signed: str, **form: str) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": signed,
        **form,
    }
    return await client.post(TOKEN_URL, data=data)


def refused(r: httpx.Response, words: str) -> None:
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["error"] == "invalid_client"
    assert words in body["error_description"], body
    assert body["status"] == 401
    assert body["type"] == "/problems/unauthorised"
    assert body["detail"] == body["error_description"]
    assert "access_token" not in body


@pytest.mark.parametrize(("kind", "alg"), [("RSA", "RS256"), ("RSA", "PS256"), ("EC", "ES256")])
async def test_a_private_key_jwt_assertion_obtains_a_token(
    client: httpx.AsyncClient, db: Database, kind: str, alg: str
) -> None:
    school = await make_org(db, "school")
    key = new_key(kind)
    issued = await key_client(db, school, key)
    assert issued.client_secret is None
    assert issued.client.authentication == "private_key_jwt"

    r = await request_token(client, assertion(issued.client.client_id, key, alg=alg))

    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert (await client.get("/v1/children", headers=auth(token))).status_code == 200


async def test_client_secret_and_private_key_jwt_both_work_and_do_not_mix(
    client: httpx.AsyncClient, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    key = new_key()
    by_key = await key_client(db, la, key)
    async with db.writing() as uow:
        by_secret = await create_client(uow, la.id, "CMS", None, Actor.system("test"))
    secret_form = {
        "grant_type": "client_credentials",
        "client_id": by_secret.client.client_id,
        "client_secret": by_secret.client_secret or "",
    }
    assert (await client.post(TOKEN_URL, data=secret_form)).status_code == 200
    assert (await request_token(client, assertion(by_key.client.client_id, key))).status_code == 200
    # a key client has no secret to give; a secret client no key to sign with
    r = await client.post(
        TOKEN_URL,
        data={**secret_form, "client_id": by_key.client.client_id, "client_secret": ""},
    )
    assert r.status_code == 401
    refused(
        await request_token(client, assertion(by_secret.client.client_id, key)), "Unknown client"
    )
    # two methods at once is a malformed request
    r = await request_token(
        client, assertion(by_key.client.client_id, key), client_secret="anything"
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"


async def test_a_replayed_assertion_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    school = await make_org(db, "school")
    key = new_key()
    issued = await key_client(db, school, key)
    signed = assertion(issued.client.client_id, key)
    assert (await request_token(client, signed)).status_code == 200

    refused(await request_token(client, signed), "used before")
    # concurrently, the same assertion is accepted at most once
    again = assertion(issued.client.client_id, key)
    answers = await asyncio.gather(*(request_token(client, again) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 401, 401, 401]


NOW = int(time.time())


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"exp": NOW - 120, "iat": NOW - 240}, "has expired"),
        ({"nbf": NOW + 600}, "not yet valid"),
        ({"iat": NOW + 600, "exp": NOW + 700}, "not yet valid"),
        ({"exp": NOW + 3600}, "must expire within 300 seconds"),
        ({"aud": "https://another-hub.example/v1/oauth/token"}, "another audience"),
        ({"aud": None}, "lacks the claim aud"),
        ({"jti": None}, "lacks the claim jti"),
        ({"exp": None}, "lacks the claim exp"),
        ({"sub": "someone-else"}, "iss and sub"),
    ],
)
async def test_expired_future_long_lived_or_wrongly_addressed_assertions_are_refused(
    client: httpx.AsyncClient, db: Database, claims: dict[str, Any], words: str
) -> None:
    school = await make_org(db, "school")
    key = new_key()
    issued = await key_client(db, school, key)

    refused(await request_token(client, assertion(issued.client.client_id, key, **claims)), words)


async def test_the_hubs_issuer_name_is_an_accepted_audience_too(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    school = await make_org(db, "school")
    key = new_key()
    issued = await key_client(db, school, key)
    signed = assertion(issued.client.client_id, key, aud=app.state.settings.issuer)
    assert (await request_token(client, signed)).status_code == 200


async def test_assertions_signed_otherwise_than_with_the_registered_key_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    school = await make_org(db, "school")
    key = new_key()
    issued = await key_client(db, school, key)
    client_id = issued.client.client_id
    refused(await request_token(client, assertion(client_id, new_key())), "does not verify")
    refused(
        await request_token(client, assertion(client_id, key, kid="other")), "has not registered"
    )
    hmac_signed = jwt.encode(
        {"iss": client_id, "sub": client_id, "aud": AUDIENCE, "exp": NOW + 60, "jti": "h"},
        "a-shared-secret-of-enough-length-for-hmac",
        "HS256",
        headers={"kid": "key-1"},
    )
    refused(await request_token(client, hmac_signed), "must be signed with")
    refused(
        await request_token(client, assertion(client_id, key), client_id="another"),
        "another client",
    )
    r = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:example:other",
            "client_assertion": assertion(client_id, key),
        },
    )
    assert r.status_code == 401
    assert JWT_BEARER in r.json()["error_description"]


async def test_keys_published_at_a_jwks_uri_are_fetched_and_rotated(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """The client publishes its keys; the hub fetches them (through the stub transport:
    nothing leaves the process) and refetches for a key id it has not seen."""
    school = await make_org(db, "school")
    keys = {"one": new_key()}
    fetches: list[str] = []

    def publish(request: httpx.Request) -> httpx.Response:
        fetches.append(str(request.url))
        return httpx.Response(200, json={"keys": [public_jwk(k, kid) for kid, k in keys.items()]})

    provider = StubProvider(routes={"https://mis.example/jwks": publish})
    issued = await key_client(db, school, keys["one"], jwks_uri="https://mis.example/jwks")
    with provider_installed(app, provider) as cache:
        now = [1000.0]
        cache.clock = lambda: now[0]
        client_id = issued.client.client_id
        assert (
            await request_token(client, assertion(client_id, keys["one"], kid="one"))
        ).status_code == 200
        keys["two"] = new_key("EC")
        now[0] += 31
        signed = assertion(client_id, keys["two"], kid="two", alg="ES256")
        assert (await request_token(client, signed)).status_code == 200
        assert len(fetches) == 2


@pytest.mark.parametrize("addresses", [["10.0.0.8"], ["151.101.0.1", "127.0.0.1"], []])
async def test_a_jwks_uri_whose_host_resolves_outside_the_public_internet_is_not_fetched(
    client: httpx.AsyncClient, app: FastAPI, db: Database, addresses: list[str]
) -> None:
    """A name registered while public, pointed later at the hub's own network (or at
    nothing): the hub looks before it fetches, and sends no request there."""
    school = await make_org(db, "school")
    key = new_key()
    fetches: list[str] = []

    def publish(request: httpx.Request) -> httpx.Response:
        fetches.append(str(request.url))
        return httpx.Response(200, json={"keys": [public_jwk(key, "one")]})

    url = "https://mis.example/jwks"
    provider = StubProvider(routes={url: publish}, addresses={"mis.example": addresses})
    issued = await key_client(db, school, key, jwks_uri=url)
    with provider_installed(app, provider):
        r = await request_token(client, assertion(issued.client.client_id, key, kid="one"))
        assert r.status_code == 503, r.text
        assert fetches == []
        provider.addresses.clear()  # the name is public again
        r = await request_token(client, assertion(issued.client.client_id, key, kid="one"))
        assert r.status_code == 200, r.text
        assert len(fetches) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"jwks_uri": "http://mis.example/jwks"}, "jwks_uri"),
        ({"jwks_uri": "https://169.254.169.254/latest"}, "jwks_uri"),
        ({"jwks_uri": "https://10.0.0.8/jwks"}, "jwks_uri"),
        ({"jwks_uri": "https://user:pw@mis.example/jwks"}, "jwks_uri"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "jwks"),
    ],
)
async def test_registration_refuses_unsafe_urls_and_unusable_keys(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, Any], field: str
) -> None:
    operator = await make_org(db, "operator")
    school = await make_org(db, "school")
    r = await client.post(
        f"/v1/organisations/{school.id}/clients",
        json={"name": "MIS", **body},
        headers=auth(token_for(app, operator)),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_registration_refuses_a_private_key_and_a_short_rsa_key(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    school = await make_org(db, "school")
    key = new_key()
    private = jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    short = public_jwk(weak, "s")
    for jwk, words in ((private, "private key"), (short, "2048 bits")):
        r = await client.post(
            f"/v1/organisations/{school.id}/clients",
            json={"name": "MIS", "jwks": {"keys": [jwk]}},
            headers=auth(token_for(app, operator)),
        )
        assert r.status_code == 422, r.text
        assert words in r.json()["detail"]


async def test_registered_keys_are_listed_by_id_without_a_secret(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    school = await make_org(db, "school")
    jwk = public_jwk(new_key("EC"), "mis-2026")
    r = await client.post(
        f"/v1/organisations/{school.id}/clients",
        json={"name": "MIS", "jwks": {"keys": [jwk]}},
        headers=auth(token_for(app, operator)),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["client_secret"] is None
    assert created["authentication"] == "private_key_jwt"
    assert created["key_ids"] == ["mis-2026"]
    listed = await client.get(
        f"/v1/organisations/{school.id}/clients", headers=auth(token_for(app, operator))
    )
    assert [c["key_ids"] for c in listed.json()] == [[], ["mis-2026"]]


async def test_spent_assertion_ids_are_deleted_once_expired(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    school = await make_org(db, "school")
    key = new_key()
    issued = await key_client(db, school, key)
    assert (await request_token(client, assertion(issued.client.client_id, key))).status_code == 200
    await superuser.execute(
        "INSERT INTO client_assertions VALUES ($1, 'old', now() - interval '1 minute')",
        issued.client.client_id,
    )
    result = await jobs.expire_sign_in_records(db, app.state.settings)
    assert result["assertions"] == 1
    kept = await superuser.fetch("SELECT jti FROM client_assertions")
    assert len(kept) == 1
    assert kept[0]["jti"] != "old"


async def test_the_command_line_registers_a_client_by_its_public_key(
    db: Database, superuser_dsn: str, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    school = await make_org(db, "school")
    key = new_key("EC")
    pem = tmp_path / "mis.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    env = {**os.environ, "APHUB_DATABASE_URL": superuser_dsn}
    process = await asyncio.create_subprocess_exec(
        str(APHUB),
        "clients",
        "create",
        "--organisation",
        str(school.id),
        "--name",
        "MIS",
        "--public-key",
        str(pem),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    printed = json.loads(out)
    assert "client_secret" not in printed
    assert printed["authentication"] == "private_key_jwt"
    (kid,) = printed["key_ids"]
    signed = assertion(printed["client_id"], key, kid=kid, alg="ES256")
    assert (await request_token(client, signed)).status_code == 200
