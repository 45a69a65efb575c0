"""Identity trusted no further than the client record: scopes bounded by organisation
type, tokens checked against their client (and dying with it), keys that rotate, and an
operator who cannot give itself sight of an area's children."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from aphub.api.table import ENDPOINTS
from aphub.auth import clients as client_records
from aphub.auth.clients import ClientRecords
from aphub.auth.keys import KeyRing, rotate_keys
from aphub.auth.scopes import CHILD_SCOPES, DEFAULT_SCOPES, SCOPE_BOUNDS
from aphub.auth.tokens import TokenService
from aphub.db import Database
from aphub.errors import Unauthorised
from aphub.models import Organisation
from tests.factories import auth, make_client_admin, make_org, token_for

TYPES = tuple(SCOPE_BOUNDS)


def operator_headers(app: FastAPI, operator: Organisation) -> dict[str, str]:
    return auth(token_for(app, operator))


@pytest.mark.parametrize("kind", ["operator", "dashboard"])
async def test_an_operator_or_a_dashboard_never_holds_a_child_scope(
    client: httpx.AsyncClient, app: FastAPI, db: Database, kind: str
) -> None:
    operator = await make_org(db, "operator")
    target = operator if kind == "operator" else await make_org(db, "dashboard")
    r = await client.post(
        f"/v1/organisations/{target.id}/clients",
        json={"name": "sneaky", "scopes": ["passports:read", "placements:read"]},
        headers=operator_headers(app, operator),
    )
    assert r.status_code == 422, r.text
    assert "may not hold" in r.json()["detail"]
    # a token that names them anyway (signed by the hub) is refused, never a 500
    token = token_for(app, target, scopes=["passports:read", "placements:read", "events:read"])
    for path in ("/v1/children", "/v1/placements", f"/v1/placements/{uuid.uuid4()}"):
        r = await client.get(path, headers=auth(token))
        assert r.status_code == 401, (path, r.text)


async def test_every_organisation_type_with_any_scopes_is_answered_without_a_server_error(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Every endpoint, as every organisation type holding its default scopes, every scope
    its type may hold, and every scope of all (beyond its bounds): 4xx or 2xx, never 5xx."""
    organisations = {kind: await make_org(db, kind) for kind in TYPES}
    scope_sets = {
        "default": lambda kind: list(DEFAULT_SCOPES[kind]),
        "bounds": lambda kind: sorted(SCOPE_BOUNDS[kind]),
        "everything": lambda _kind: sorted(set().union(*SCOPE_BOUNDS.values())),
    }
    failures = []
    for kind, organisation in organisations.items():
        for name, scopes in scope_sets.items():
            headers = auth(token_for(app, organisation, scopes=scopes(kind)))
            for endpoint in ENDPOINTS:
                path = endpoint.path
                for param in endpoint.signature.path:
                    path = path.replace(f"{{{param}}}", str(uuid.uuid4()))
                path = path.replace("{section}", "about_me").replace("{slug}", "not-found")
                body = {} if endpoint.method in ("POST", "PUT", "PATCH") else None
                r = await client.request(endpoint.method, path, json=body, headers=headers)
                if r.status_code >= 500:
                    failures.append(f"{kind} {name} {endpoint.method} {path}: {r.status_code}")
    assert not failures, failures


async def test_a_revoked_clients_token_stops_within_five_seconds_on_every_worker(
    app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers' worth of caches, each holding the client's record: once revoked, both
    refuse its token as soon as their record is older than the TTL (5 s)."""
    school = await make_org(db, "school")
    tokens: TokenService = app.state.tokens
    claims = tokens.verify(token_for(app, school, scopes=["passports:read"]))
    workers = [ClientRecords(), ClientRecords()]
    for worker in workers:
        await worker.check(db, claims)  # both have read the record
    async with db.writing() as unit:
        await unit.execute(
            "UPDATE api_clients SET revoked_at = now() WHERE client_id = :client_id",
            client_id=claims.client_id,
        )
    for worker in workers:  # within the TTL, a worker may still accept it ...
        await worker.check(db, claims)
    later = time.monotonic() + client_records.TTL_SECONDS + 0.1
    monkeypatch.setattr(client_records.time, "monotonic", lambda: later)
    for worker in workers:  # ... and no longer after it
        with pytest.raises(Unauthorised, match="revoked"):
            await worker.check(db, claims)


async def test_a_revoked_client_is_refused_over_the_api_once_its_record_is_read_again(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    school = await make_org(db, "school")
    r = await client.post(
        f"/v1/organisations/{school.id}/clients",
        json={"name": "MIS"},
        headers=operator_headers(app, operator),
    )
    issued = r.json()
    token = (
        await client.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": issued["client_id"],
                "client_secret": issued["client_secret"],
            },
        )
    ).json()["access_token"]
    assert (await client.get("/v1/children", headers=auth(token))).status_code == 200
    r = await client.delete(
        f"/v1/organisations/{school.id}/clients/{issued['client_id']}",
        headers=operator_headers(app, operator),
    )
    assert r.status_code == 204
    app.state.clients.forget()  # as its record's five seconds have passed
    r = await client.get("/v1/children", headers=auth(token))
    assert r.status_code == 401, r.text
    assert "revoked" in r.json()["detail"]


async def test_a_token_is_only_as_good_as_its_clients_record(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Signed by the hub, but naming another organisation, another type, or scopes the
    client does not hold: refused."""
    school = await make_org(db, "school")
    other = await make_org(db, "school")
    tokens: TokenService = app.state.tokens
    client_id = f"test-{school.id.hex}"
    forged = [
        tokens.issue(
            client_id=client_id,
            organisation_id=other.id,
            organisation_type="school",
            scopes=["passports:read"],
        )[0],
        tokens.issue(
            client_id=client_id,
            organisation_id=school.id,
            organisation_type="local_authority",
            scopes=["passports:read"],
        )[0],
        tokens.issue(
            client_id=client_id,
            organisation_id=school.id,
            organisation_type="school",
            scopes=["passports:read", "attendance:write"],  # beyond a school's bounds
        )[0],
        tokens.issue(
            client_id="nobody",
            organisation_id=school.id,
            organisation_type="school",
            scopes=["passports:read"],
        )[0],
    ]
    for token in forged:
        r = await client.get("/v1/children", headers=auth(token))
        assert r.status_code == 401, r.text
    # within the school's bounds, but more than this client was granted
    narrow = await make_org(db, "school")
    async with db.writing() as unit:
        await unit.execute(
            "UPDATE api_clients SET scopes = ARRAY['providers:read'] WHERE client_id = :c",
            c=f"test-{narrow.id.hex}",
        )
    r = await client.get("/v1/children", headers=auth(token_for(app, narrow)))
    assert r.status_code == 401, r.text
    assert "scopes its client does not hold" in r.json()["detail"]


async def test_a_token_signed_with_a_key_the_hub_does_not_know_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    school = await make_org(db, "school")
    token = token_for(app, school)
    _header, payload, _signature = token.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
    key = app.state.tokens.key
    unknown = jwt.encode(claims, key.private_key, "ES256", headers={"kid": "not-a-key-of-ours"})
    r = await client.get("/v1/children", headers=auth(unknown))
    assert r.status_code == 401
    assert "key this hub does not know" in r.json()["detail"]


def test_rotated_keys_keep_verifying_their_tokens_for_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = KeyRing(tmp_path)
    service = TokenService(ring, issuer="aphub", audience="aphub", ttl_seconds=900)
    organisation = uuid.uuid4()
    old = service.issue(
        client_id="c", organisation_id=organisation, organisation_type="school", scopes=[]
    )[0]
    retired, new = rotate_keys(tmp_path)
    fresh = KeyRing(tmp_path)  # a hub started after the rotation
    assert fresh.current.kid == new
    assert {k["kid"] for k in fresh.public_jwks()} == {retired, new}
    after = TokenService(fresh, issuer="aphub", audience="aphub", ttl_seconds=900)
    assert after.verify(old).client_id == "c"  # signed by the retired key: still good
    # a running hub meets a token its new key signed: it looks at the ring again
    newer = after.issue(
        client_id="d", organisation_id=organisation, organisation_type="school", scopes=[]
    )[0]
    monkeypatch.setattr("aphub.auth.keys._RELOAD_SECONDS", 0.0)
    assert service.verify(newer).client_id == "d"
    # a day later the retired key is forgotten
    from aphub.auth import keys

    later = time.time() + keys.RETIRED_KEY_LIFETIME + 1
    monkeypatch.setattr(keys.time, "time", lambda: later)
    assert {k["kid"] for k in KeyRing(tmp_path).public_jwks()} == {new}
    with pytest.raises(Unauthorised, match="does not know"):
        TokenService(KeyRing(tmp_path), issuer="aphub", audience="aphub", ttl_seconds=900)._decode(
            old
        )


async def test_the_operator_cannot_give_itself_sight_of_an_organisations_children(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: object
) -> None:
    """Once an organisation has an admin client of its own, a client the operator creates
    for it with child scopes waits for that admin's approval; its tokens are refused until
    then, and the organisation hears of it."""
    operator = await make_org(db, "operator")
    la = await make_org(db, "local_authority")
    ops = operator_headers(app, operator)
    r = await client.post(
        f"/v1/organisations/{la.id}/clients",
        json={"name": "LA admin", "scopes": ["clients:admin", "events:read"]},
        headers=ops,
    )
    assert r.status_code == 201, r.text
    admin = r.json()
    assert admin["approved_at"] is not None  # the first admin: nobody else could approve
    admin_token = await _token(client, admin)

    r = await client.post(
        f"/v1/organisations/{la.id}/clients",
        json={"name": "backdoor", "scopes": ["passports:read"]},
        headers=ops,
    )
    assert r.status_code == 201, r.text
    pending = r.json()
    assert pending["approved_at"] is None
    refused = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": pending["client_id"],
            "client_secret": pending["client_secret"],
        },
    )
    assert refused.status_code == 401

    # the LA's admin sees it, and who created it, and hears of it in its feed
    listed = await client.get(f"/v1/organisations/{la.id}/clients", headers=auth(admin_token))
    assert listed.status_code == 200, listed.text
    mine = {c["client_id"]: c for c in listed.json()}
    assert mine[pending["client_id"]]["created_by_organisation_id"] == str(operator.id)
    feed = await client.get("/v1/events", headers=auth(admin_token))
    created = [
        e
        for e in feed.json()["items"]
        if e["type"] == "client.created" and e["data"]["client_id"] == pending["client_id"]
    ]
    assert created
    assert created[0]["data"]["awaiting_approval"] is True

    # the operator cannot approve it; the LA's admin can
    r = await client.post(
        f"/v1/organisations/{la.id}/clients/{pending['client_id']}/approve", json={}, headers=ops
    )
    assert r.status_code == 403
    r = await client.post(
        f"/v1/organisations/{la.id}/clients/{pending['client_id']}/approve",
        json={},
        headers=auth(admin_token),
    )
    assert r.status_code == 200, r.text
    assert await _token(client, pending)


async def test_an_organisations_admin_manages_its_own_clients_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    other = await make_org(db, "local_authority", la_code="202")
    await make_client_admin(db, la)
    admin = auth(token_for(app, la, scopes=["clients:admin"]))
    r = await client.post(f"/v1/organisations/{la.id}/clients", json={"name": "MIS"}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["approved_at"] is not None  # its own admin: approved at once
    assert set(r.json()["scopes"]) & CHILD_SCOPES
    for method, path in (
        ("GET", f"/v1/organisations/{other.id}/clients"),
        ("POST", f"/v1/organisations/{other.id}/clients"),
    ):
        r = await client.request(method, path, json={"name": "x"}, headers=admin)
        assert r.status_code == 403, r.text


async def _token(client: httpx.AsyncClient, issued: dict[str, str]) -> str:
    r = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued["client_id"],
            "client_secret": issued["client_secret"],
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])
