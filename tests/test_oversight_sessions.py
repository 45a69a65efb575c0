"""Signing people in to /oversight: a local authority's client exchanged for a server-side
session (HttpOnly, SameSite=Strict cookie, Secure over https; CSRF tokens on the forms),
or a person's own identity provider by the authorisation code flow with PKCE, against a
stub provider; sign-out; and the principal a later page acts as."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from aphub.db import Database
from aphub.errors import Unauthorised
from aphub.oversight.sessions import session_principal
from tests.factories import auth, make_org, token_for
from tests.identity_factories import (
    AUTHORIZATION_ENDPOINT,
    ISSUER,
    TOKEN_ENDPOINT,
    StubProvider,
    admit,
    form_token,
    provider_installed,
    secret_client,
    sign_in_with_secret,
)
from tests.test_errors import json_logs  # noqa: F401 - the fixture


def cookie(response: httpx.Response, name: str) -> list[str]:
    """The attributes of the cookie `name` the response sets, lower-cased."""
    for line in response.headers.get_list("set-cookie"):
        if line.startswith(f"{name}="):
            return [part.strip().lower() for part in line.split(";")]
    raise AssertionError(f"no {name} cookie set: {response.headers.get_list('set-cookie')}")


def sets_cookie(response: httpx.Response, name: str) -> bool:
    return any(
        line.startswith(f"{name}=") and "max-age=0" not in line.lower()
        for line in response.headers.get_list("set-cookie")
    )


async def test_an_la_client_signs_in_to_a_session_with_a_strict_httponly_cookie(
    client: httpx.AsyncClient, db: Database, superuser: asyncpg.Connection
) -> None:
    la = await make_org(db, "local_authority", name="Camden")
    issued = await secret_client(db, la)

    r = await sign_in_with_secret(client, issued)

    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/oversight"
    attributes = cookie(r, "aphub_session")
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/oversight" in attributes
    assert "max-age=28800" in attributes  # APHUB_SESSION_HOURS, 8 by default
    assert "secure" not in attributes  # served over plain http here (see the next test)
    secret = attributes[0].split("=", 1)[1]
    stored = await superuser.fetchval("SELECT secret_hash FROM oversight_sessions")
    assert stored != secret  # only its hash is kept
    page = await client.get("/oversight")
    assert page.status_code == 200, page.text
    assert "Camden" in page.text
    assert "Local authority" in page.text
    assert issued.client.client_id in page.text
    assert 'href="/docs"' in page.text
    assert "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_over_https_every_cookie_is_secure(app: FastAPI, db: Database) -> None:
    la = await make_org(db, "local_authority")
    issued = await secret_client(db, la)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub") as browser:
        form = await browser.get("/oversight/sign-in")
        assert "secure" in cookie(form, "aphub_sign_in")
        r = await sign_in_with_secret(browser, issued)
        assert r.status_code == 303, r.text
        assert "secure" in cookie(r, "aphub_session")
        assert (await browser.get("/oversight")).status_code == 200


async def test_the_sign_in_form_is_refused_without_its_own_csrf_token(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    issued = await secret_client(db, la)
    credentials = {"client_id": issued.client.client_id, "client_secret": issued.client_secret}
    page = await client.get("/oversight/sign-in")
    token = form_token(page.text)

    missing = await client.post("/oversight/sign-in", data=credentials)
    assert missing.status_code == 403
    assert not sets_cookie(missing, "aphub_session")
    # a token from another browser's form does not fit this browser's cookie
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as other:
        await other.get("/oversight/sign-in")
        r = await other.post("/oversight/sign-in", data={**credentials, "csrf_token": token})
        assert r.status_code == 403
    # sent from another site, whatever the token
    for header in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        r = await client.post(
            "/oversight/sign-in", data={**credentials, "csrf_token": token}, headers=header
        )
        assert r.status_code == 403, header
        assert not sets_cookie(r, "aphub_session")
    r = await client.post("/oversight/sign-in", data={**credentials, "csrf_token": token})
    assert r.status_code == 303, r.text


async def test_a_wrong_secret_or_a_client_of_another_type_does_not_sign_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    issued = await secret_client(db, la)
    page = await client.get("/oversight/sign-in")
    form = {
        "csrf_token": form_token(page.text),
        "client_id": issued.client.client_id,
        "client_secret": "wrong",
    }
    r = await client.post("/oversight/sign-in", data=form)
    assert r.status_code == 401
    assert "Unknown client or wrong secret" in r.text
    assert not sets_cookie(r, "aphub_session")
    school = await secret_client(db, await make_org(db, "school"))
    r = await sign_in_with_secret(client, school)
    assert r.status_code == 403
    assert "for local authorities" in r.text
    assert not sets_cookie(r, "aphub_session")


async def test_signing_out_needs_the_sessions_csrf_token_and_ends_it_on_the_server(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    assert (await sign_in_with_secret(client, await secret_client(db, la))).status_code == 303
    secret = client.cookies["aphub_session"]
    page = await client.get("/oversight")
    token = form_token(page.text)
    transport = httpx.ASGITransport(app=app)
    kept = {"aphub_session": secret}  # the same cookie, kept by someone else
    async with httpx.AsyncClient(transport=transport, base_url="http://hub", cookies=kept) as c:
        assert (await c.get("/oversight")).status_code == 200

    r = await client.post("/oversight/sign-out", data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert (await client.get("/oversight")).status_code == 200

    r = await client.post("/oversight/sign-out", data={"csrf_token": token})
    assert r.status_code == 303
    assert r.headers["location"] == "/oversight/sign-in"
    assert (await client.get("/oversight")).status_code == 303
    # the cookie kept elsewhere opens nothing now: the session ended on the server
    async with httpx.AsyncClient(transport=transport, base_url="http://hub", cookies=kept) as c:
        again = await c.get("/oversight")
    assert again.status_code == 303
    assert again.headers["location"] == "/oversight/sign-in"


async def test_revoking_the_client_ends_its_sessions_at_once(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    issued = await secret_client(db, la)
    assert (await sign_in_with_secret(client, issued)).status_code == 303
    assert (await client.get("/oversight")).status_code == 200
    operator = await make_org(db, "operator")
    r = await client.delete(
        f"/v1/organisations/{la.id}/clients/{issued.client.client_id}",
        headers=auth(token_for(app, operator)),
    )
    assert r.status_code == 204
    assert (await client.get("/oversight")).status_code == 303


async def test_a_later_page_acts_as_the_signed_in_organisation(
    client: httpx.AsyncClient, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    issued = await secret_client(db, la, scopes=["reports:read", "providers:read"])
    assert (await sign_in_with_secret(client, issued)).status_code == 303
    secret = client.cookies["aphub_session"]

    def request(cookie_header: str) -> Request:
        headers = [(b"cookie", cookie_header.encode())] if cookie_header else []
        return Request({"type": "http", "method": "GET", "path": "/oversight", "headers": headers})

    async with db.reading() as unit:
        principal = await session_principal(unit, request(f"aphub_session={secret}"))
        with pytest.raises(Unauthorised):
            await session_principal(unit, request(""))
        with pytest.raises(Unauthorised):
            await session_principal(unit, request("aphub_session=guessed"))
    assert principal.organisation_id == la.id
    assert principal.organisation_type == "local_authority"
    assert principal.client_id == issued.client.client_id
    assert principal.scopes == {"reports:read", "providers:read"}


async def test_sign_ins_and_outs_are_events_the_organisation_sees(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    other = await make_org(db, "local_authority", la_code="299")
    assert (await sign_in_with_secret(client, await secret_client(db, la))).status_code == 303
    page = await client.get("/oversight")
    await client.post("/oversight/sign-out", data={"csrf_token": form_token(page.text)})

    def types(feed: httpx.Response) -> list[str]:
        assert feed.status_code == 200, feed.text
        return [e["type"] for e in feed.json()["items"] if e["type"].startswith("session.")]

    own = await client.get("/v1/events", headers=auth(token_for(app, la)))
    assert types(own) == ["session.started", "session.ended"]
    assert types(await client.get("/v1/events", headers=auth(token_for(app, other)))) == []


# --- a person's own identity provider ---------------------------------------------------------


@pytest.fixture
def provider() -> StubProvider:
    return StubProvider()


async def _start(client: httpx.AsyncClient, provider: StubProvider) -> httpx.Response:
    page = await client.get("/oversight/sign-in")
    assert f'href="/oversight/sign-in/{provider.name}"' in page.text
    assert "Sign in with Area Keycloak" in page.text
    started = await client.get(f"/oversight/sign-in/{provider.name}")
    assert started.status_code == 303, started.text
    return started


async def test_a_person_signs_in_with_their_provider_by_code_and_pkce(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    provider: StubProvider,
    json_logs: list[str],  # noqa: F811
) -> None:
    la = await make_org(db, "local_authority", name="Camden", la_code="202")
    admission = await admit(db, la)
    with provider_installed(app, provider):
        started = await _start(client, provider)
        location = httpx.URL(started.headers["location"])
        assert str(location.copy_with(query=None)) == AUTHORIZATION_ENDPOINT
        assert location.params["code_challenge_method"] == "S256"
        assert location.params["redirect_uri"] == "http://hub/oversight/callback"
        assert len(location.params["state"]) >= 32
        assert len(location.params["nonce"]) >= 32
        flow = cookie(started, "aphub_oidc")
        assert "samesite=lax" in flow  # it must come back with the provider's redirect
        assert "httponly" in flow
        assert "path=/oversight" in flow
        # the person signs in at the provider, which sends the browser back
        code, state = provider.authorise(
            started.headers["location"],
            la_code="202",
            scope="providers:read reports:read organisations:admin",
        )
        r = await client.get("/oversight/callback", params={"code": code, "state": state})
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/oversight"
        assert "samesite=strict" in cookie(r, "aphub_session")
        # the code was exchanged with the verifier (the provider checked it against S256)
        (exchange,) = provider.token_requests
        assert len(exchange["code_verifier"]) >= 43
        page = await client.get("/oversight")
        assert page.status_code == 200, page.text
        assert "Camden" in page.text
        assert "Area Keycloak" in page.text
    row = await superuser.fetchrow("SELECT * FROM oversight_sessions")
    assert row["method"] == "oidc"
    assert row["issuer"] == ISSUER
    assert row["client_id"] == admission.client.client_id
    assert row["subject"].startswith("person-")
    # the provider asserted a scope a local authority never holds: not granted
    assert set(row["scopes"]) == {"providers:read", "reports:read"}
    assert row["subject"] not in "\n".join(json_logs)


async def test_a_state_that_does_not_match_is_refused_before_the_code_is_exchanged(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="202"))
    with provider_installed(app, provider):
        started = await _start(client, provider)
        code, _state = provider.authorise(started.headers["location"], la_code="202")
        r = await client.get("/oversight/callback", params={"code": code, "state": "forged"})
        assert r.status_code == 400
        assert "state does not match" in r.text
        assert not sets_cookie(r, "aphub_session")
        assert provider.token_requests == []
        # nor does a browser that did not start the flow get anywhere with a real state
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as other:
            r = await other.get("/oversight/callback", params={"code": code, "state": _state})
        assert r.status_code == 400
        assert "not started here" in r.text
        assert provider.token_requests == []


@pytest.mark.parametrize(
    ("claims", "status", "words"),
    [
        ({"la_code": "202", "nonce": "another"}, 401, "nonce does not match"),
        ({"la_code": "202", "aud": "another-client"}, 401, "another audience"),
        ({"la_code": "298"}, 403, "has not admitted"),
        ({"la_code": None}, 403, "names no organisation"),
    ],
)
async def test_an_id_token_that_does_not_fit_the_sign_in_is_refused(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    provider: StubProvider,
    claims: dict[str, str | None],
    status: int,
    words: str,
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="202"))
    await make_org(db, "local_authority", la_code="298")
    with provider_installed(app, provider):
        started = await _start(client, provider)
        code, state = provider.authorise(started.headers["location"], **claims)
        r = await client.get("/oversight/callback", params={"code": code, "state": state})
    assert r.status_code == status, r.text
    assert words in r.text
    assert not sets_cookie(r, "aphub_session")


async def test_a_provider_refusal_or_a_school_does_not_sign_in(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    school = await make_org(db, "school", urn="100002")
    await admit(db, school)
    by_urn = provider.config(organisation_claim="urn", organisation_identifier="urn")
    with provider_installed(app, provider, by_urn):
        started = await _start(client, provider)
        code, state = provider.authorise(started.headers["location"], urn="100002")
        r = await client.get("/oversight/callback", params={"code": code, "state": state})
        assert r.status_code == 403
        assert "for local authorities" in r.text
        started = await _start(client, provider)
        _code, state = provider.authorise(started.headers["location"])
        r = await client.get(
            "/oversight/callback", params={"error": "access_denied", "state": state}
        )
        assert r.status_code == 401
        assert "did not sign you in" in r.text
        assert (await client.get("/oversight/sign-in/nobody")).status_code == 404
    assert uuid.UUID(str(school.id))


async def test_an_oversized_or_unreachable_token_answer_does_not_sign_in(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    """The provider's answer to the code exchange is read no further than 64 KiB."""
    await admit(db, await make_org(db, "local_authority", la_code="202"))

    def oversized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"id_token": "' + b"a" * 70_000 + b'"}')

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("unreachable", request=request)

    for answer, status, words in ((oversized, 401, "refused"), (down, 502, "cannot be reached")):
        provider.routes[TOKEN_ENDPOINT] = answer
        with provider_installed(app, provider):
            started = await _start(client, provider)
            code, state = provider.authorise(started.headers["location"], la_code="202")
            r = await client.get("/oversight/callback", params={"code": code, "state": state})
        assert r.status_code == status, r.text
        assert words in r.text
        assert not sets_cookie(r, "aphub_session")
