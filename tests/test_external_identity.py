"""Access tokens of external OIDC issuers: accepted for the organisation their claim maps
to once that organisation has admitted the issuer, with scopes bounded by the admitting
record and the organisation's type whatever the issuer says; keys fetched from the
issuer's JWKS (through a stub provider on an httpx MockTransport) and refetched once, not
per request, for a key id the hub has not seen."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.auth import jwks as jwks_module
from aphub.auth.issuers import IssuerConfigError, load_issuers
from aphub.auth.jwks import JwksCache
from aphub.db import Database
from tests.factories import auth, make_org, token_for
from tests.identity_factories import (
    AUDIENCE,
    ISSUER,
    JWKS_URI,
    StubProvider,
    admit,
    provider_installed,
)
from tests.test_errors import json_logs  # noqa: F401 - the fixture

LA_READ = "passports:read passports:write placements:read providers:read"


@pytest.fixture
def provider() -> StubProvider:
    return StubProvider()


async def test_a_token_from_an_admitted_issuer_opens_the_api_as_the_mapped_organisation(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    provider: StubProvider,
) -> None:
    """The LA's own identity provider: its token names the LA by LA code; the hub acts as
    that LA, through the client record by which it admitted the provider."""
    la = await make_org(db, "local_authority", la_code="202")
    other = await make_org(db, "local_authority", la_code="203")
    operator = await make_org(db, "operator")
    with provider_installed(app, provider):
        r = await client.post(
            f"/v1/organisations/{la.id}/clients",
            json={"name": "Camden Entra ID", "issuer": provider.name},
            headers=auth(token_for(app, operator)),
        )
        assert r.status_code == 201, r.text
        admission = r.json()
        assert admission["authentication"] == "external_issuer"
        assert admission["issuer"] == ISSUER
        assert admission["client_secret"] is None
        token = provider.access_token(la_code="202", scope=LA_READ)
        listed = await client.get("/v1/children", headers=auth(token))
        assert listed.status_code == 200, listed.text
        created = await client.post(
            "/v1/children",
            json={
                "legal_first_name": "Ada",
                "legal_last_name": "Lovelace",
                "date_of_birth": "2012-03-04",
                "home_la_id": str(la.id),
            },
            headers={**auth(token), "Idempotency-Key": "external-1"},
        )
        assert created.status_code == 201, created.text
        # a scope the token does not assert is not held
        refused = await client.post(
            "/v1/attendance", json={"marks": []}, headers={**auth(token), "Idempotency-Key": "a"}
        )
        assert refused.status_code == 403, refused.text
        # the same provider's token for an LA that has not admitted it opens nothing
        stranger = provider.access_token(la_code="203", scope=LA_READ)
        r = await client.get("/v1/children", headers=auth(stranger))
        assert r.status_code == 401, r.text
        assert "not admitted" in r.json()["detail"]
    actor = await superuser.fetchrow(
        "SELECT actor_organisation_id, actor_client_id FROM events WHERE type = 'child.created'"
    )
    assert actor is not None
    assert (actor["actor_organisation_id"], actor["actor_client_id"]) == (
        la.id,
        admission["client_id"],
    )
    assert other.id != la.id


@pytest.mark.parametrize(
    ("kind", "asserted", "reachable", "refused"),
    [
        # a dashboard never holds a child scope, whatever its provider asserts
        (
            "dashboard",
            "providers:read passports:read placements:read",
            "/v1/providers",
            "/v1/children",
        ),
        # nor does a local authority administer the register
        (
            "local_authority",
            "providers:read organisations:admin",
            "/v1/providers",
            "/v1/organisations",
        ),
    ],
)
async def test_a_scope_beyond_the_organisation_types_bounds_is_never_granted(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    provider: StubProvider,
    kind: str,
    asserted: str,
    reachable: str,
    refused: str,
) -> None:
    organisation = await make_org(db, kind, **({"la_code": "204"} if kind != "dashboard" else {}))
    await admit(db, organisation)
    config = provider.config(
        organisation_claim="org", organisation_identifier="id", fixed_scopes=None
    )
    with provider_installed(app, provider, config):
        token = provider.access_token(org=str(organisation.id), scope=asserted)
        assert (await client.get(reachable, headers=auth(token))).status_code == 200
        if refused == "/v1/organisations":
            r = await client.post(
                refused, json={"type": "trust", "name": "Mine"}, headers=auth(token)
            )
        else:
            r = await client.get(refused, headers=auth(token))
        assert r.status_code == 403, r.text


async def test_fixed_scopes_are_bounded_by_the_admitting_record_too(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    """An issuer configured to grant child scopes to all its tokens still gets only what
    the organisation admitted it for."""
    la = await make_org(db, "local_authority", la_code="205")
    await admit(db, la, scopes=["providers:read"])
    config = provider.config(scopes_claim=None, fixed_scopes=["providers:read", "passports:read"])
    with provider_installed(app, provider, config):
        token = provider.access_token(la_code="205", scope=None)
        assert (await client.get("/v1/providers", headers=auth(token))).status_code == 200
        r = await client.get("/v1/children", headers=auth(token))
        assert r.status_code == 403, r.text


async def test_the_type_bounds_hold_even_over_a_record_that_exceeds_them(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    provider: StubProvider,
) -> None:
    """A record changed behind the hub's back (it refuses such scopes when creating one)
    still cannot give a dashboard sight of a child."""
    dashboard = await make_org(db, "dashboard")
    admission = await admit(db, dashboard)
    await superuser.execute(
        "UPDATE api_clients SET scopes = scopes || '{passports:read}' WHERE client_id = $1",
        admission.client.client_id,
    )
    config = provider.config(organisation_claim="org", organisation_identifier="id")
    with provider_installed(app, provider, config):
        token = provider.access_token(org=str(dashboard.id), scope="providers:read passports:read")
        assert (await client.get("/v1/providers", headers=auth(token))).status_code == 200
        r = await client.get("/v1/children", headers=auth(token))
        assert r.status_code == 403, r.text


async def test_scope_map_turns_the_providers_names_into_the_hubs(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    la = await make_org(db, "local_authority", la_code="206")
    await admit(db, la)
    config = provider.config(scopes_claim="roles", scope_map={"Children.Read": ["passports:read"]})
    with provider_installed(app, provider, config):
        token = provider.access_token(la_code="206", roles=["Children.Read", "Other"])
        assert (await client.get("/v1/children", headers=auth(token))).status_code == 200
        r = await client.get("/v1/providers", headers=auth(token))
        assert r.status_code == 403, r.text


async def test_revoking_the_admission_stops_the_issuers_tokens(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    """As fast as a client's: the admission is a client record, read again every 5 s."""
    la = await make_org(db, "local_authority", la_code="207")
    admission = await admit(db, la)
    operator = await make_org(db, "operator")
    with provider_installed(app, provider):
        token = provider.access_token(la_code="207", scope="providers:read")
        assert (await client.get("/v1/providers", headers=auth(token))).status_code == 200
        r = await client.delete(
            f"/v1/organisations/{la.id}/clients/{admission.client.client_id}",
            headers=auth(token_for(app, operator)),
        )
        assert r.status_code == 204, r.text
        app.state.clients.forget()  # as its record's five seconds have passed
        r = await client.get("/v1/providers", headers=auth(token))
        assert r.status_code == 401, r.text
        assert "revoked" in r.json()["detail"]


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "system-1",
        "iat": now,
        "exp": now + 300,
        "la_code": "208",
        "scope": "providers:read",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "another-api"}, "another audience"),
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"nbf": int(time.time()) + 300}, "not yet valid"),
        ({"exp": None}, "lacks the claim exp"),
        ({"sub": None}, "lacks the claim sub"),
        ({"la_code": None}, "names no organisation"),
    ],
)
async def test_external_tokens_that_do_not_verify_are_refused(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    provider: StubProvider,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="208"))
    with provider_installed(app, provider):
        r = await client.get("/v1/providers", headers=auth(provider.sign(_claims(**overrides))))
    assert r.status_code == 401, r.text
    assert reason in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"


async def test_a_token_signed_by_a_key_the_issuer_does_not_publish_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="208"))
    hidden = provider.add_key("RSA", publish=False)
    with provider_installed(app, provider):
        r = await client.get("/v1/providers", headers=auth(provider.sign(_claims(), kid=hidden)))
        assert r.status_code == 401, r.text
        assert "does not publish" in r.json()["detail"]
        # HS256 keyed with something public is never accepted
        forged = provider.sign(_claims(), kid=provider.signing_kid)
        header, payload, _ = forged.split(".")
        r = await client.get("/v1/providers", headers=auth(f"{header}.{payload}.AAAA"))
        assert r.status_code == 401


async def test_an_unknown_kid_triggers_one_jwks_refetch_not_one_per_request(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="208"))
    now = [1000.0]
    with provider_installed(app, provider) as keys:
        keys.clock = lambda: now[0]
        first = provider.sign(_claims())
        assert (await client.get("/v1/providers", headers=auth(first))).status_code == 200
        assert provider.jwks_fetches == 1
        # the provider rotates: a new key, published; a token signed with it arrives
        now[0] += jwks_module.REFETCH_SECONDS + 1
        rotated = provider.add_key("EC")
        token = provider.sign(_claims(sub="system-2"), kid=rotated)
        assert (await client.get("/v1/providers", headers=auth(token))).status_code == 200
        assert provider.jwks_fetches == 2
        # tokens naming a key nobody publishes: refused, and no more fetches however many
        for n in range(5):
            bogus = provider.sign(_claims(sub=f"x{n}"), kid=provider.add_key(publish=False))
            r = await client.get("/v1/providers", headers=auth(bogus))
            assert r.status_code == 401
        assert provider.jwks_fetches == 2
        # once the interval has passed, concurrent unknown kids share one fetch
        now[0] += jwks_module.REFETCH_SECONDS + 1
        bogus_tokens = [
            provider.sign(_claims(sub=f"y{n}"), kid=provider.add_key(publish=False))
            for n in range(5)
        ]
        answers = await asyncio.gather(
            *(client.get("/v1/providers", headers=auth(t)) for t in bogus_tokens)
        )
        assert {a.status_code for a in answers} == {401}
        assert provider.jwks_fetches == 3
        # known tokens keep verifying without any fetch (verified once, then cached)
        assert (await client.get("/v1/providers", headers=auth(first))).status_code == 200
        assert provider.jwks_fetches == 3


async def test_a_key_the_issuer_drops_stops_verifying_when_the_set_is_fetched_again(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="208"))
    now = [1000.0]
    with provider_installed(app, provider) as keys:
        keys.clock = lambda: now[0]
        old = provider.signing_kid
        assert (
            await client.get("/v1/providers", headers=auth(provider.sign(_claims(), kid=old)))
        ).status_code == 200
        provider.signing_kid = provider.add_key("RSA")
        provider.published.remove(old)
        now[0] += jwks_module.DEFAULT_MAX_AGE + 1  # the set held has expired
        dropped = provider.sign(_claims(sub="old-key"), kid=old)
        r = await client.get("/v1/providers", headers=auth(dropped))
        assert r.status_code == 401, r.text
        assert provider.jwks_fetches == 2  # fetched again because the set expired
        fresh = provider.sign(_claims(sub="new"))
        assert (await client.get("/v1/providers", headers=auth(fresh))).status_code == 200


async def test_keys_held_survive_an_outage_and_none_held_is_a_503(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="208"))
    now = [1000.0]
    with provider_installed(app, provider) as keys:
        keys.clock = lambda: now[0]
        provider.jwks_down = True
        r = await client.get("/v1/providers", headers=auth(provider.sign(_claims())))
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"]
        provider.jwks_down = False
        assert (
            await client.get("/v1/providers", headers=auth(provider.sign(_claims(sub="a"))))
        ).status_code == 200
        provider.jwks_down = True
        now[0] += jwks_module.DEFAULT_MAX_AGE + 1
        r = await client.get("/v1/providers", headers=auth(provider.sign(_claims(sub="b"))))
        assert r.status_code == 200, r.text


async def test_the_subject_and_the_token_never_reach_the_logs(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    provider: StubProvider,
    json_logs: list[str],  # noqa: F811
) -> None:
    await admit(db, await make_org(db, "local_authority", la_code="208"))
    subject = "jane.smith@camden.example"
    with provider_installed(app, provider):
        token = provider.sign(_claims(sub=subject))
        assert (await client.get("/v1/providers", headers=auth(token))).status_code == 200
        bad = provider.sign(_claims(sub=subject, aud="elsewhere"))
        assert (await client.get("/v1/providers", headers=auth(bad))).status_code == 401
    text = "\n".join(json_logs)
    assert '"logger":"aphub.access"' in text
    for secret in (subject, token, token[:24], bad):
        assert secret not in text


async def test_the_organisation_is_found_by_each_identifier_and_never_guessed(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    school = await make_org(db, "school", urn="100001")
    await admit(db, school)
    # two organisations answering to one ODS code: no single organisation, refused
    health = [await make_org(db, "health", ods_code="RKE") for _ in range(2)]
    for organisation in health:
        await admit(db, organisation)
    by_urn = provider.config(organisation_claim="urn", organisation_identifier="urn")
    with provider_installed(app, provider, by_urn):
        token = provider.access_token(urn="100001")
        assert (await client.get("/v1/providers", headers=auth(token))).status_code == 200
    by_ods = provider.config(organisation_claim="ods", organisation_identifier="ods_code")
    with provider_installed(app, provider, by_ods):
        r = await client.get("/v1/providers", headers=auth(provider.access_token(ods="RKE")))
        assert r.status_code == 401, r.text


async def test_admitting_an_issuer_names_a_configured_one_once_per_organisation(
    client: httpx.AsyncClient, app: FastAPI, db: Database, provider: StubProvider
) -> None:
    la = await make_org(db, "local_authority", la_code="209")
    operator = await make_org(db, "operator")
    url = f"/v1/organisations/{la.id}/clients"
    headers = auth(token_for(app, operator))
    r = await client.post(url, json={"name": "x", "issuer": "nobody"}, headers=headers)
    assert r.status_code == 422, r.text
    with provider_installed(app, provider):
        r = await client.post(url, json={"name": "x", "issuer": ISSUER}, headers=headers)
        assert r.status_code == 201, r.text
        again = await client.post(url, json={"name": "y", "issuer": provider.name}, headers=headers)
        assert again.status_code == 409, again.text
        both = {"name": "z", "issuer": provider.name, "jwks_uri": "https://client.test/jwks"}
        r = await client.post(url, json=both, headers=headers)
        assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fixed_scopes": ["providers:read"]}, "not both"),
        ({"scopes_claim": None}, "not both"),
        ({"organisation": "202"}, "not both"),
        ({"scopes_claim": "scp", "scope_map": {"X": ["children:everything"]}}, "unknown scopes"),
        ({"jwks_uri": "http://idp.test/certs"}, "https"),
        ({"issuer": "aphub"}, "hub's own"),
        ({"name": "Not A Name"}, "name"),
    ],
)
def test_the_issuers_configuration_is_checked_before_the_hub_starts(
    provider: StubProvider, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(IssuerConfigError, match=message):
        load_issuers(json.dumps([provider.config(**change)]), own_issuer="aphub")


def test_the_issuers_configuration_may_be_a_file(tmp_path: Any, provider: StubProvider) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps([provider.config()]))
    loaded = load_issuers(str(path), own_issuer="aphub")
    assert loaded.find(provider.name) is loaded.find(ISSUER)
    with pytest.raises(IssuerConfigError, match="two issuers"):
        load_issuers(json.dumps([provider.config(), provider.config()]), own_issuer="aphub")


async def test_jwks_cache_refuses_a_set_too_large_or_without_usable_keys() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/large":
            return httpx.Response(200, content=b" " * (jwks_module.MAX_BYTES + 1))
        return httpx.Response(200, json={"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    cache = JwksCache(http)
    for path in ("/large", "/symmetric"):
        with pytest.raises(jwks_module.KeysUnavailable):
            await cache.key(f"https://idp.test{path}", "k", "RS256")
    await http.aclose()
    assert JWKS_URI.startswith("https://")
