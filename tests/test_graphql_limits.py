"""GraphQL refuses abusive documents with an error before any SQL runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.main import create_app
from tests.factories import auth, make_org, read_client_record, token_for

SIMPLE = "{ organisations { items { id name } nextCursor } }"


@pytest.fixture
async def headers(client: httpx.AsyncClient, app: FastAPI, db: Database) -> dict[str, str]:
    """An operator's token, its client's record already read (the hub reads it once per
    few seconds): the only SQL a refused document could cause is then its own."""
    headers = auth(token_for(app, await make_org(db, "operator")))
    await read_client_record(client, headers)
    return headers


@pytest.fixture
def checkouts(database: Database) -> Iterator[list[str]]:
    """Statements run while the test runs: none means no SQL at all."""
    with database.observing() as seen:
        yield seen


async def graphql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str], **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def messages(result: dict[str, Any]) -> list[str]:
    return [e["message"] for e in result.get("errors", [])]


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as c:
        yield c


# --- limits -----------------------------------------------------------------------------


async def test_too_deep_query_is_refused_without_sql(
    client: httpx.AsyncClient, headers: dict[str, str], checkouts: list[str]
) -> None:
    deep = "{ organisations { items { id " + "{ a " * 12 + "}" * 12 + " } } }"

    result = await graphql(client, deep, headers)

    assert result["data"] is None
    assert any("exceeds maximum operation depth of 10" in m for m in messages(result))
    assert checkouts == []


async def test_depth_limit_refuses_an_otherwise_valid_query(
    settings: Settings,
    database: Database,
    app: FastAPI,
    headers: dict[str, str],
    checkouts: list[str],
) -> None:
    shallow = create_app(settings.model_copy(update={"graphql_max_depth": 1}), database=database)
    shallow.state.tokens, shallow.state.clients = app.state.tokens, app.state.clients

    async with app_client(shallow) as c:
        result = await graphql(c, SIMPLE, headers)

    assert result["data"] is None
    assert set(messages(result)) == {"'anonymous' exceeds maximum operation depth of 1"}
    assert checkouts == []


async def test_too_many_aliases_are_refused_without_sql(
    client: httpx.AsyncClient, headers: dict[str, str], checkouts: list[str]
) -> None:
    query = "{ " + " ".join(f"a{i}: organisations {{ nextCursor }}" for i in range(31)) + " }"

    result = await graphql(client, query, headers)

    assert result["data"] is None
    assert messages(result) == ["31 aliases found. Allowed: 30"]
    assert checkouts == []


async def test_too_many_tokens_are_refused_without_sql(
    client: httpx.AsyncClient, headers: dict[str, str], checkouts: list[str]
) -> None:
    query = "{ organisations { " + "items { id } " * 700 + "} }"

    result = await graphql(client, query, headers)

    assert result["data"] is None
    assert any("more than 2000 tokens" in m for m in messages(result))
    assert checkouts == []


@pytest.mark.parametrize("first", [501, 0, -1])
async def test_page_size_out_of_range_is_bad_user_input_without_sql(
    client: httpx.AsyncClient, headers: dict[str, str], checkouts: list[str], first: int
) -> None:
    result = await graphql(
        client,
        "query($first: Int!) { organisations(first: $first) { nextCursor } }",
        headers,
        first=first,
    )

    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["errors"] == [
        {"field": "first", "message": "first must be between 1 and 500"}
    ]
    assert checkouts == []


async def test_a_normal_query_does_run_sql(
    client: httpx.AsyncClient, headers: dict[str, str], checkouts: list[str]
) -> None:
    result = await graphql(client, SIMPLE, headers)

    assert "errors" not in result
    assert len(result["data"]["organisations"]["items"]) == 1
    assert len(checkouts) > 0


async def test_batched_queries_are_refused_as_a_problem(
    client: httpx.AsyncClient, headers: dict[str, str], checkouts: list[str]
) -> None:
    r = await client.post("/graphql", json=[{"query": SIMPLE}, {"query": SIMPLE}], headers=headers)

    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert "Batching" in r.json()["detail"]
    assert checkouts == []


async def test_body_that_is_not_json_is_a_problem(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    r = await client.post(
        "/graphql", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )

    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"


# --- introspection ----------------------------------------------------------------------

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_works_by_default(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    result = await graphql(client, INTROSPECTION, headers)

    assert result["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_is_refused_when_disabled(
    settings: Settings, database: Database, headers: dict[str, str], checkouts: list[str]
) -> None:
    closed = create_app(
        settings.model_copy(update={"graphql_introspection": False}), database=database
    )

    async with app_client(closed) as c:
        schema = await graphql(c, INTROSPECTION, headers)
        named_type = await graphql(c, '{ __type(name: "Organisation") { name } }', headers)
        ordinary = await graphql(c, SIMPLE, headers)

    assert schema["data"] is None
    assert any("introspection" in m.lower() for m in messages(schema))
    assert named_type["data"] is None
    assert "errors" not in ordinary
    assert len(checkouts) > 0  # only the ordinary query reached the database


# --- authentication ---------------------------------------------------------------------


async def test_graphql_with_an_invalid_token_is_401_problem(
    client: httpx.AsyncClient, checkouts: list[str]
) -> None:
    r = await client.post(
        "/graphql", json={"query": SIMPLE}, headers={"Authorization": "Bearer not-a-token"}
    )

    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer ")
    assert checkouts == []


async def test_graphql_without_a_token_gets_unauthenticated_error(
    client: httpx.AsyncClient, checkouts: list[str]
) -> None:
    result = await graphql(client, SIMPLE, {})

    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["path"] == ["organisations"]
    assert checkouts == []
