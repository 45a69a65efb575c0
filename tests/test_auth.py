"""The built-in OAuth2 issuer and bearer-token verification.

Bad tokens are built with PyJWT and the hub's own signing key, so each case differs from a
good token in exactly one respect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from sqlalchemy import select

from aphub.auth.service import IssuedClient, create_client
from aphub.db import Database
from aphub.events.log import Actor
from aphub.models import ApiClient, Organisation
from tests.factories import auth, make_org, token_for

TOKEN_URL = "/v1/oauth/token"
PROBLEM_JSON = "application/problem+json"


async def issue_client(
    database: Database, organisation: Organisation, scopes: list[str] | None = None
) -> IssuedClient:
    async with database.writing() as uow:
        return await create_client(
            uow, organisation.id, "test client", scopes, Actor.system("test")
        )


async def request_token(
    client: httpx.AsyncClient, issued: IssuedClient, **form: str
) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": issued.client.client_id,
        "client_secret": issued.client_secret,
        **form,
    }
    return await client.post(TOKEN_URL, data=data)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(app: FastAPI, organisation: Organisation, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": app.state.tokens.issuer,
        "aud": app.state.tokens.audience,
        "sub": "test-client",
        "org": str(organisation.id),
        "org_type": organisation.type,
        "scope": "organisations:admin",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    payload.update(overrides)
    return payload


def signed(app: FastAPI, payload: dict[str, Any]) -> str:
    key = app.state.tokens.key
    return jwt.encode(payload, key.private_key, "ES256", headers={"kid": key.kid})


def hs256_with_public_key(app: FastAPI, payload: dict[str, Any]) -> str:
    """The algorithm-confusion attack: HMAC keyed with the (public) verification key's PEM.
    PyJWT refuses to produce such a token, so it is assembled by hand."""
    pem = app.state.tokens.key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": app.state.tokens.key.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unsigned(payload: dict[str, Any]) -> str:
    return jwt.encode(payload, None, algorithm="none")


def signed_with_another_key(app: FastAPI, payload: dict[str, Any]) -> str:
    other = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(payload, other, "ES256", headers={"kid": app.state.tokens.key.kid})


def assert_unauthorised_problem(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"].startswith("Bearer ")
    body = response.json()
    assert body["status"] == 401
    assert body["type"].endswith("/unauthorised")
    assert body["title"]
    assert body["detail"]


# --- the token endpoint -----------------------------------------------------------------


async def test_client_credentials_grant_returns_es256_jwt_that_opens_organisations(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)

    r = await request_token(client, issued)

    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == app.state.tokens.ttl_seconds
    assert set(body["scope"].split()) == set(issued.client.scopes)
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256"
    assert header["kid"] == app.state.tokens.key.kid
    listed = await client.get("/v1/organisations", headers=auth(body["access_token"]))
    assert listed.status_code == 200, listed.text
    assert [o["id"] for o in listed.json()["items"]] == [str(operator.id)]


async def test_client_credentials_grant_accepts_http_basic_client_authentication(
    client: httpx.AsyncClient, db: Database
) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)

    r = await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        auth=(issued.client.client_id, issued.client_secret),
    )

    assert r.status_code == 200, r.text
    listed = await client.get("/v1/organisations", headers=auth(r.json()["access_token"]))
    assert listed.status_code == 200


async def test_token_request_may_narrow_scopes_to_a_granted_subset(
    client: httpx.AsyncClient, db: Database
) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)

    r = await request_token(client, issued, scope="providers:read")

    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "providers:read"
    token = r.json()["access_token"]
    refused = await client.post(
        "/v1/organisations", json={"type": "trust", "name": "T"}, headers=auth(token)
    )
    assert refused.status_code == 403


async def test_wrong_secret_is_401_invalid_client(client: httpx.AsyncClient, db: Database) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)

    r = await request_token(client, issued, client_secret=issued.client_secret + "x")

    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == "invalid_client"
    assert "access_token" not in r.json()


async def test_unknown_client_is_401_invalid_client(
    client: httpx.AsyncClient, db: Database
) -> None:
    r = await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


async def test_unknown_grant_type_is_400_unsupported_grant_type(
    client: httpx.AsyncClient, db: Database
) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)

    r = await request_token(client, issued, grant_type="password")

    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


async def test_scope_not_granted_is_400_invalid_scope(
    client: httpx.AsyncClient, db: Database
) -> None:
    school = await make_org(db, "school")
    issued = await issue_client(db, school)
    assert "reports:read" not in issued.client.scopes

    r = await request_token(client, issued, scope="placements:read reports:read")

    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"


async def test_revoked_client_is_refused_a_token(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)
    revoked = await client.delete(
        f"/v1/organisations/{operator.id}/clients/{issued.client.client_id}",
        headers=auth(token_for(app, operator)),
    )
    assert revoked.status_code == 204, revoked.text

    r = await request_token(client, issued)

    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


async def test_client_secrets_are_stored_hashed(db: Database) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)

    async with db.writing() as uow:
        stored = await uow.session.scalar(
            select(ApiClient.secret_hash).where(ApiClient.client_id == issued.client.client_id)
        )

    assert stored is not None
    assert stored != issued.client_secret
    assert issued.client_secret not in stored


# --- bearer tokens ----------------------------------------------------------------------


async def test_issued_token_kid_is_in_jwks_and_the_jwk_verifies_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    operator = await make_org(db, "operator")
    issued = await issue_client(db, operator)
    token = (await request_token(client, issued)).json()["access_token"]

    jwks = await client.get("/.well-known/jwks.json")

    assert jwks.status_code == 200
    kid = jwt.get_unverified_header(token)["kid"]
    matching = [k for k in jwks.json()["keys"] if k["kid"] == kid]
    assert len(matching) == 1
    assert "d" not in matching[0]  # the public half only
    verified = jwt.decode(
        token, jwt.PyJWK(matching[0]).key, algorithms=["ES256"], audience="aphub", issuer="aphub"
    )
    assert verified["org"] == str(operator.id)


async def test_expired_token_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    past = int(time.time()) - 3600
    token = signed(app, claims(app, operator, iat=past - 600, nbf=past - 600, exp=past))

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)
    assert "expired" in r.json()["detail"]


async def test_not_yet_valid_token_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    future = int(time.time()) + 300  # well beyond the verifier's leeway
    token = signed(app, claims(app, operator, nbf=future, exp=future + 600))

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)
    assert "not yet valid" in r.json()["detail"]


async def test_token_for_another_audience_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    token = signed(app, claims(app, operator, aud="someone-else"))

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)
    assert "audience" in r.json()["detail"]


async def test_token_from_another_issuer_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    token = signed(app, claims(app, operator, iss="https://evil.example"))

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)
    assert "issuer" in r.json()["detail"]


async def test_unsigned_alg_none_token_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    token = unsigned(claims(app, operator))

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)


async def test_token_signed_with_another_ec_key_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    token = signed_with_another_key(app, claims(app, operator))

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)
    assert "signature" in r.json()["detail"]


async def test_hs256_token_keyed_with_public_key_pem_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    token = hs256_with_public_key(app, claims(app, operator))

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJFUzI1NiJ9..", "ä.ö.ü"])
async def test_malformed_token_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, token: str
) -> None:
    r = await client.get("/v1/organisations", headers={"Authorization": f"Bearer {token}".encode()})

    assert_unauthorised_problem(r)


async def test_token_naming_no_valid_organisation_is_401_problem(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    token = signed(app, {**claims(app, operator), "org": "not-a-uuid"})

    r = await client.get("/v1/organisations", headers=auth(token))

    assert_unauthorised_problem(r)


async def test_missing_authorization_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/v1/organisations")

    assert_unauthorised_problem(r)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer   "])
async def test_non_bearer_authorization_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient, header: str
) -> None:
    r = await client.get("/v1/organisations", headers={"Authorization": header})

    assert_unauthorised_problem(r)


async def test_token_without_organisations_admin_is_403_problem_on_create(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    token = token_for(app, operator, scopes=["providers:read"])

    r = await client.post(
        "/v1/organisations", json={"type": "trust", "name": "New Trust"}, headers=auth(token)
    )

    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == 403
    assert "organisations:admin" in body["detail"]
    async with db.writing() as uow:
        names = (await uow.session.scalars(select(Organisation.name))).all()
    assert "New Trust" not in names
