"""The operator's register of organisations, over REST and GraphQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from aphub.db import Database
from aphub.models import Organisation
from tests.factories import auth, make_org, token_for

ORGS = "/v1/organisations"


@pytest.fixture
async def operator(client: httpx.AsyncClient, app: FastAPI, db: Database) -> dict[str, str]:
    """Headers of an operator client (organisations:admin)."""
    organisation = await make_org(db, "operator", name="The Operator")
    return auth(token_for(app, organisation))


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(ORGS, json=body, headers=headers)


async def created(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    r = await create(client, headers, **body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def organisation_count(database: Database) -> int:
    async with database.writing() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def walk(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page_params = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(ORGS, params=page_params, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


# --- creating ---------------------------------------------------------------------------


async def test_operator_creates_local_authority_trust_school_and_provider(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    la = await created(client, operator, type="local_authority", name="Camden", la_code="202")
    trust = await created(client, operator, type="trust", name="Oak Academies Trust")
    school = await created(
        client,
        operator,
        type="school",
        name="Kentish Town Academy",
        urn="100003",
        laestab="2024001",
        local_authority_id=la["id"],
        trust_id=trust["id"],
        postcode="NW5 1AA",
    )
    provider = await created(
        client,
        operator,
        type="provider",
        name="Camden AP Academy",
        urn="100102",
        ukprn="10000102",
        local_authority_id=la["id"],
        contact_email="office@example.org",
    )

    assert la["la_code"] == "202"
    assert school["local_authority_id"] == la["id"]
    assert school["trust_id"] == trust["id"]
    assert school["version"] == 1
    assert provider["ukprn"] == "10000102"
    r = await client.get(f"{ORGS}/{school['id']}", headers=operator)
    assert r.status_code == 200
    assert r.json() == school
    assert r.headers["etag"] == '"1"'


async def test_create_returns_location_and_etag(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    r = await create(client, operator, type="trust", name="River Learning Trust")

    assert r.status_code == 201
    assert r.headers["location"] == f"{ORGS}/{r.json()['id']}"
    assert r.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"type": "school", "urn": "12345"}, "urn", "URN must be 6 digits"),
        (
            {"type": "provider", "ukprn": "20000000"},
            "ukprn",
            "UKPRN must be 8 digits starting with 1",
        ),
        (
            {"type": "local_authority", "la_code": "999"},
            "la_code",
            "LA code 999 is not a current English local authority code",
        ),
    ],
)
async def test_invalid_identifier_is_422_with_field_error_and_nothing_written(
    client: httpx.AsyncClient,
    operator: dict[str, str],
    db: Database,
    body: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = await organisation_count(db)

    r = await create(client, operator, name="Bad", **body)

    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert {"field": field, "message": message} in r.json()["errors"]
    assert await organisation_count(db) == before


async def test_every_invalid_identifier_gets_its_own_field_error(
    client: httpx.AsyncClient, operator: dict[str, str], db: Database
) -> None:
    before = await organisation_count(db)

    r = await create(
        client, operator, type="provider", name="Bad", urn="12345", ukprn="20000000", la_code="999"
    )

    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["la_code", "ukprn", "urn"]
    assert await organisation_count(db) == before


async def test_school_without_local_authority_area_is_422(
    client: httpx.AsyncClient, operator: dict[str, str], db: Database
) -> None:
    before = await organisation_count(db)

    r = await create(client, operator, type="school", name="Nowhere School", urn="100010")

    assert r.status_code == 422
    assert "local_authority_id" in r.json()["errors"][0]["message"]
    assert await organisation_count(db) == before


async def test_school_local_authority_id_must_name_a_local_authority(
    client: httpx.AsyncClient, operator: dict[str, str], db: Database
) -> None:
    trust = await created(client, operator, type="trust", name="A Trust")

    r = await create(
        client, operator, type="school", name="S", urn="100011", local_authority_id=trust["id"]
    )

    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["local_authority_id"]


async def test_trust_id_must_name_a_trust(
    client: httpx.AsyncClient, operator: dict[str, str], db: Database
) -> None:
    la = await created(client, operator, type="local_authority", name="Camden", la_code="202")
    before = await organisation_count(db)

    r = await create(
        client,
        operator,
        type="school",
        name="S",
        urn="100012",
        local_authority_id=la["id"],
        trust_id=la["id"],
    )

    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["trust_id"]
    assert await organisation_count(db) == before


async def test_duplicate_urn_is_409_naming_the_existing_organisation(
    client: httpx.AsyncClient, operator: dict[str, str], db: Database
) -> None:
    la = await created(client, operator, type="local_authority", name="Camden", la_code="202")
    first = await created(
        client, operator, type="school", name="First", urn="100020", local_authority_id=la["id"]
    )
    before = await organisation_count(db)

    r = await create(
        client, operator, type="provider", name="Second", urn="100020", local_authority_id=la["id"]
    )

    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["existing_id"] == first["id"]
    assert "urn" in r.json()["detail"]
    assert await organisation_count(db) == before


# --- reading ----------------------------------------------------------------------------


async def test_list_filters_by_type_la_code_trust_id_and_name(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    camden = await created(client, operator, type="local_authority", name="Camden", la_code="202")
    bristol = await created(client, operator, type="local_authority", name="Bristol", la_code="801")
    oak = await created(client, operator, type="trust", name="Oak Trust")
    kentish = await created(
        client,
        operator,
        type="school",
        name="Kentish Town Academy",
        urn="100003",
        local_authority_id=camden["id"],
        trust_id=oak["id"],
    )
    redland = await created(
        client,
        operator,
        type="school",
        name="Redland Green School",
        urn="100005",
        local_authority_id=bristol["id"],
        trust_id=oak["id"],
    )
    primrose = await created(
        client,
        operator,
        type="school",
        name="Primrose Hill Primary",
        urn="100004",
        local_authority_id=camden["id"],
    )

    async def ids(**params: str) -> set[str]:
        return {o["id"] for o in await walk(client, operator, **params)}

    assert await ids(type="school") == {kentish["id"], redland["id"], primrose["id"]}
    assert await ids(type="trust") == {oak["id"]}
    # an LA code finds the authority and the organisations in its area
    assert await ids(la_code="202") == {camden["id"], kentish["id"], primrose["id"]}
    assert await ids(la_code="202", type="school") == {kentish["id"], primrose["id"]}
    assert await ids(trust_id=oak["id"]) == {kentish["id"], redland["id"]}
    assert await ids(name="green") == {redland["id"]}  # case-insensitive part of the name
    assert await ids(name="%") == set()  # wildcards are literal
    assert await ids(urn="100004") == {primrose["id"]}


async def test_unknown_id_is_404_problem(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    r = await client.get(f"{ORGS}/01890000-0000-7000-8000-000000000000", headers=operator)

    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_cursor_pagination_walks_every_row_once_and_survives_an_insert(
    client: httpx.AsyncClient, app: FastAPI, db: Database, operator: dict[str, str]
) -> None:
    for _ in range(6):
        await make_org(db, "trust")
    everyone = {o["id"] for o in await walk(client, operator, limit=500)}
    assert len(everyone) == 7  # six trusts and the operator

    first = await client.get(ORGS, params={"limit": 3}, headers=operator)
    assert first.status_code == 200
    seen = [o["id"] for o in first.json()["items"]]
    assert len(seen) == 3
    late = await make_org(db, "trust", name="Inserted between pages")
    rest = await walk(client, operator, limit=3, cursor=first.json()["next_cursor"])
    seen += [o["id"] for o in rest]

    assert len(seen) == len(set(seen)), "a row appeared on two pages"
    assert set(seen) == everyone | {str(late.id)}


async def test_cursor_that_the_hub_did_not_issue_is_422(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    r = await client.get(ORGS, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=operator)

    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "cursor"


async def test_updated_since_returns_only_organisations_changed_since(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    a = await created(client, operator, type="trust", name="Trust A")
    b = await created(client, operator, type="trust", name="Trust B")
    since = max(
        datetime.fromisoformat(a["updated_at"]), datetime.fromisoformat(b["updated_at"])
    ) + timedelta(microseconds=1)
    changed = await client.patch(f"{ORGS}/{a['id']}", json={"name": "Trust A2"}, headers=operator)
    assert changed.status_code == 200

    delta = await walk(client, operator, updated_since=since.isoformat(), limit=1)

    assert [o["id"] for o in delta] == [a["id"]]
    assert delta[0]["name"] == "Trust A2"
    everything = await walk(client, operator, updated_since="2000-01-01T00:00:00Z", limit=1)
    # in (updated_at, id) order: the edited one last
    assert [o["id"] for o in everything][-1] == a["id"]
    assert {o["id"] for o in everything} >= {a["id"], b["id"]}


# --- changing ---------------------------------------------------------------------------


async def test_patch_with_stale_if_match_is_412_and_current_moves_etag_on(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    trust = await created(client, operator, type="trust", name="Trust")
    url = f"{ORGS}/{trust['id']}"
    read = await client.get(url, headers=operator)
    etag = read.headers["etag"]

    ok = await client.patch(url, json={"name": "Renamed"}, headers={**operator, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    assert ok.json()["name"] == "Renamed"
    assert ok.json()["version"] == 2
    assert ok.headers["etag"] == '"2"' != etag

    stale = await client.patch(url, json={"name": "Lost"}, headers={**operator, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await client.get(url, headers=operator)).json()["name"] == "Renamed"

    again = await client.patch(
        url, json={"name": "Again"}, headers={**operator, "If-Match": ok.headers["etag"]}
    )
    assert again.status_code == 200
    assert again.headers["etag"] == '"3"'


@pytest.mark.parametrize("if_match", ["null", '"v1"', '"\u00b2"', '"1 2"'])
async def test_if_match_that_is_not_an_etag_of_the_hub_is_422(
    client: httpx.AsyncClient, operator: dict[str, str], if_match: str
) -> None:
    trust = await created(client, operator, type="trust", name="Trust")

    r = await client.patch(
        f"{ORGS}/{trust['id']}",
        json={"name": "Renamed"},
        headers={**operator, "If-Match": if_match.encode("latin-1")},
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "If-Match"


# --- GraphQL ----------------------------------------------------------------------------

_FIELDS = (
    "id type name laCode urn ukprn laestab localAuthorityId trustId postcode active version "
    "createdAt updatedAt"
)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _comparable(node: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in node.items():
        snake = _snake(key)
        out[snake] = datetime.fromisoformat(value) if snake.endswith("_at") else value
    return out


async def test_graphql_organisations_return_the_same_data_as_rest(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    la = await created(client, operator, type="local_authority", name="Camden", la_code="202")
    await created(
        client, operator, type="school", name="School", urn="100003", local_authority_id=la["id"]
    )
    rest = await walk(client, operator, limit=2)
    query = f"""
      query($after: String) {{
        organisations(first: 2, after: $after) {{ items {{ {_FIELDS} }} nextCursor }}
      }}"""

    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        r = await client.post(
            "/graphql", json={"query": query, "variables": {"after": after}}, headers=operator
        )
        assert r.status_code == 200, r.text
        assert "errors" not in r.json(), r.json()
        page = r.json()["data"]["organisations"]
        nodes += page["items"]
        after = page["nextCursor"]
        if after is None:
            break

    assert len(nodes) == len(rest) == 3
    for node, row in zip(nodes, rest, strict=True):
        expected = {k: row[k] for k in _comparable(node)}
        for key in ("created_at", "updated_at"):
            expected[key] = datetime.fromisoformat(expected[key])
        assert _comparable(node) == expected


async def test_graphql_organisation_by_id_matches_rest(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    trust = await created(client, operator, type="trust", name="Oak")
    query = f"query($id: UUID!) {{ organisation(id: $id) {{ {_FIELDS} }} }}"

    r = await client.post(
        "/graphql", json={"query": query, "variables": {"id": trust["id"]}}, headers=operator
    )

    node = r.json()["data"]["organisation"]
    expected = {k: trust[k] for k in _comparable(node)}
    for key in ("created_at", "updated_at"):
        expected[key] = datetime.fromisoformat(expected[key])
    assert _comparable(node) == expected


async def test_graphql_unknown_organisation_is_not_found_error(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    query = 'query { organisation(id: "01890000-0000-7000-8000-000000000000") { id } }'

    r = await client.post("/graphql", json={"query": query}, headers=operator)

    assert r.status_code == 200
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
