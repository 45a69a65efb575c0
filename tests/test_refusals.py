"""Refusals that say so: a filter the hub does not know is a 400 naming it (never every
child), dates are ISO 8601 strings only, GraphQL arguments are checked by REST's types,
every GraphQL refusal carries a code, introspection has a depth and needs a token, and a
caller's mistake is logged at INFO without the document or the identifiers in it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from tests.child_factories import graphql, make_area, make_child
from tests.factories import auth, make_org, token_for

BAD_UPN = "Z801200001001"  # a wrong check letter


async def test_the_feed_refuses_a_cursor_parameter_it_does_not_take(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """`?cursor=` used to return page one again, forever: the feed resumes with `after`."""
    la = auth(token_for(app, await make_org(db, "local_authority")))
    r = await client.get("/v1/events?cursor=abc", headers=la)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"field": "cursor", "message": "unknown query parameter"}]


async def test_children_changed_since_a_moment_are_listed_and_no_others(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    unchanged = await make_child(client, area, legal_first_name="Ada")
    changed = await make_child(client, area, legal_first_name="Bea")
    since = datetime.now(UTC)
    r = await client.patch(
        f"/v1/children/{changed}", json={"preferred_name": "B"}, headers=area.headers(area.la)
    )
    assert r.status_code == 200, r.text

    for asked, expected in ((since, [changed]), (since - timedelta(hours=1), None)):
        r = await client.get(
            "/v1/children",
            params={"updated_since": asked.isoformat()},
            headers=area.headers(area.la),
        )
        assert r.status_code == 200, r.text
        ids = [c["id"] for c in r.json()["items"]]
        assert ids == (expected or sorted([unchanged, changed])), ids
    r = await client.get("/v1/children?updated_since=0", headers=area.headers(area.la))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "updated_since"


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-13-01", "yesterday"])
async def test_a_date_is_an_iso_8601_string_or_a_422(
    client: httpx.AsyncClient, app: FastAPI, db: Database, value: str
) -> None:
    """`?to=0` was read as 1970-01-01."""
    la = auth(token_for(app, await make_org(db, "local_authority")))
    r = await client.get(f"/v1/attendance/summary?to={value}", headers=la)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "to"


async def test_graphql_checks_a_upn_argument_as_rest_does(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """`children(upn: "Z8…")` answered an empty list where REST answers 422."""
    area = await make_area(app, db)
    await make_child(client, area)
    rest = await client.get(f"/v1/children?upn={BAD_UPN}", headers=area.headers(area.la))
    assert rest.status_code == 422, rest.text
    result = await graphql(
        client,
        "query($upn: String) { children(upn: $upn) { items { id } } }",
        area.headers(area.la),
        upn=BAD_UPN,
    )
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["errors"] == rest.json()["errors"]


async def test_a_callers_mistake_is_logged_at_info_without_the_document_or_identifiers(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    area = await make_area(app, db)
    caplog.set_level(logging.DEBUG)
    headers = area.headers(area.la)
    await graphql(client, f'{{ children(upn: "{BAD_UPN}") {{ items {{ id }} }} }}', headers)
    await graphql(client, f'{{ child(id: "{BAD_UPN}") {{ id }} }}', headers)
    await graphql(client, f'{{ children(upn: "{BAD_UPN}") {{ nope }} }}', headers)
    await client.get(f"/v1/children?upn={BAD_UPN}", headers=headers)

    refusals = [r for r in caplog.records if r.name.startswith("aphub")]
    assert refusals, "the refusals are logged"
    assert all(r.levelno <= logging.INFO for r in refusals), [
        (r.name, r.levelname, r.getMessage()) for r in refusals
    ]
    for record in caplog.records:
        if record.name.startswith(("httpx", "httpcore")):  # the test's own client
            continue
        assert BAD_UPN not in record.getMessage()
        assert BAD_UPN not in repr(record.__dict__)


# --- GraphQL refusals: each with a code ------------------------------------------------------


async def _refusal(client: httpx.AsyncClient, query: str, headers: dict[str, str]) -> set[str]:
    r = await client.post("/graphql", json={"query": query}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] is None
    errors = r.json()["errors"]
    codes = {e.get("extensions", {}).get("code") for e in errors}
    assert None not in codes, errors
    return {str(c) for c in codes}


OF_TYPE_20_DEEP = (
    '{ __type(name: "Child") { fields { type '
    + "{ ofType " * 20
    + "{ name }"
    + " }" * 20
    + " } } }"
)
TOO_DEEP = "{ organisations { items { id " + "{ a " * 12 + "}" * 12 + " } } }"
CIRCULAR = "query { organisations { ...A } } fragment A on OrganisationPage { ...B } " + (
    "fragment B on OrganisationPage { ...A }"
)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ " + " ".join(f"a{n}: __typename" for n in range(40)) + " }", "ALIAS_LIMIT_EXCEEDED"),
        ("{ organisations { items { id " + "name " * 2500 + "} } }", "TOKEN_LIMIT_EXCEEDED"),
        (
            "{ organisations { items { id " + "{ a " * 12 + "}" * 12 + " } } }",
            "DEPTH_LIMIT_EXCEEDED",
        ),
        (OF_TYPE_20_DEEP, "DEPTH_LIMIT_EXCEEDED"),
        (CIRCULAR, "GRAPHQL_VALIDATION_FAILED"),
        ("{ organisations { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ organisations { ", "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["aliases", "tokens", "depth", "introspection-depth", "circular", "unknown", "syntax"],
)
async def test_every_graphql_refusal_carries_a_code(
    client: httpx.AsyncClient, app: FastAPI, db: Database, query: str, code: str
) -> None:
    headers = auth(token_for(app, await make_org(db, "operator")))
    codes = await _refusal(client, query, headers)
    assert code in codes, codes


async def test_introspection_needs_a_token_and_the_standard_query_passes_with_one(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    query = "{ __schema { queryType { name } } }"
    assert await _refusal(client, query, {}) == {"INTROSPECTION_DISABLED"}
    r = await client.post("/graphql", json={"query": '{ __type(name: "Child") { name } }'})
    assert r.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    headers = auth(token_for(app, await make_org(db, "school")))
    r = await client.post("/graphql", json={"query": query}, headers=headers)
    assert r.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    # GraphiQL's own query (ofType seven deep) is within the introspection depth
    graphiql = (
        "{ __schema { types { fields(includeDeprecated: true) { type "
        + "{ ofType " * 7
        + "{ name }"
        + " }" * 7
        + " } } } }"
    )
    r = await client.post("/graphql", json={"query": graphiql}, headers=headers)
    assert "errors" not in r.json(), r.json()["errors"]
