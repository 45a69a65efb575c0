"""Small async factories: organisations straight into the database, tokens straight from
the hub's issuer (the token endpoint itself is tested in test_auth)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.auth.scopes import DEFAULT_SCOPES, SCOPE_BOUNDS
from aphub.db import Database
from aphub.identifiers import LA_CODES
from aphub.models import ApiClient, Organisation

_serial = itertools.count(1)


async def make_org(database: Database, type: str = "school", **values: Any) -> Organisation:
    n = next(_serial)
    values.setdefault("name", f"{type.replace('_', ' ').title()} {n}")
    if type == "local_authority":
        values.setdefault("la_code", "201")
    async with database.writing() as uow:
        if type == "school" and "local_authority_id" not in values:
            la = Organisation(type="local_authority", name=f"LA for {n}", la_code=_free_la())
            uow.session.add(la)
            await uow.session.flush()
            values["local_authority_id"] = la.id
        organisation = Organisation(type=type, **values)
        uow.session.add(organisation)
        await uow.session.flush()
        uow.session.add(client_record(organisation))
    return organisation


def client_record(organisation: Organisation) -> ApiClient:
    """The client `token_for` issues tokens to: the hub checks every token against its
    client's record, so each test organisation has one, holding the scopes its type may."""
    return ApiClient(
        client_id=f"test-{organisation.id.hex}",
        secret_hash="-",
        organisation_id=organisation.id,
        name="test client",
        # all but clients:admin: an organisation's own administrator is a client it
        # chooses to have (it decides whether the operator's new clients need approval)
        scopes=sorted(SCOPE_BOUNDS[organisation.type] - {"clients:admin"}),
        approved_at=datetime.now(UTC),
    )


async def register_client(database: Database, organisation: Organisation) -> None:
    """`client_record` for an organisation made another way (over the API, by SQL)."""
    async with database.writing() as uow:
        uow.session.add(client_record(organisation))


async def make_client_admin(database: Database, organisation: Organisation) -> None:
    """Let the organisation's test client administer the organisation's clients."""
    async with database.writing() as uow:
        await uow.execute(
            "UPDATE api_clients SET scopes = array_append(scopes, 'clients:admin') "
            "WHERE client_id = :client_id",
            client_id=f"test-{organisation.id.hex}",
        )


# Codes for the LA areas of schools made without one: taken from the end of the reference
# list (tests name the London and Bristol codes explicitly), cycling, so a long session
# never runs out; each test starts from empty tables, so reuse across tests is safe.
_la_codes = itertools.cycle(sorted((c for c in LA_CODES if c >= "850"), reverse=True))


def _free_la() -> str:
    return next(_la_codes)


def token_for(app: FastAPI, organisation: Organisation, scopes: list[str] | None = None) -> str:
    token, _ = app.state.tokens.issue(
        client_id=f"test-{organisation.id.hex}",
        organisation_id=organisation.id,
        organisation_type=organisation.type,
        scopes=list(scopes if scopes is not None else DEFAULT_SCOPES[organisation.type]),
    )
    return str(token)


async def read_client_record(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """One request with these credentials, so the hub has read their client's record (it
    reads it once every few seconds per client): statements counted afterwards are then
    the request's own."""
    r = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert r.status_code == 200, r.text
    assert "errors" not in r.json(), r.text


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
