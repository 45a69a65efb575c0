"""GraphQL for placements: the same reads and services as REST, nested lists batched."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from aphub.events.verify import verify_chain
from aphub.sharing import gate
from tests.factories import auth, make_org, read_client_record, token_for
from tests.placement_factories import complete_plan, make_area, request_body, requested
from tests.placement_seeds import principal_of, registered_provider, seed_active_placements

PAGE = """
query Page($first: Int!) {
  placements(first: $first) {
    items {
      id status version plannedEndDate hoursPerWeek
      pattern { day sessions }
      exitStrategy { intendedDestination plannedDate }
      flags { pastPlannedEnd reviewOverdue }
      intendedOutcomes { id description targetDate }
      child { id legalFirstName access { rules } }
      provider { id name type }
      commissioner { id name }
      reviews { id decision heldOn nextReviewDate }
      history { seq type version occurredAt actor { organisationId clientId } }
    }
    nextCursor
  }
}
"""

PLACEMENT_FIELDS = "id status version plannedEndDate reviews { id decision } " + (
    "history { type version actor { organisationId } }"
)


async def gql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str], **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


@dataclass
class Statements:
    """Every SQL statement the hub sends, raw or through the ORM."""

    seen: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.seen)

    def reset(self) -> None:
        self.seen.clear()


@pytest.fixture
def statements(database: Database) -> Iterator[Statements]:
    with database.observing() as seen:
        yield Statements(seen)


async def test_a_page_of_placements_with_nested_lists_runs_the_same_statements_for_5_or_50(
    client: httpx.AsyncClient, app: FastAPI, db: Database, statements: Statements
) -> None:
    area = await make_area(app, db)
    providers = [await registered_provider(db, area) for _ in range(3)]
    seeded = await seed_active_placements(db, area, providers, 50, children=25)

    await read_client_record(client, area.la_headers)
    counts = {}
    for first in (5, 50):
        statements.reset()
        result = await gql(client, PAGE, area.la_headers, first=first)
        assert "errors" not in result, result["errors"]
        items = result["data"]["placements"]["items"]
        assert len(items) == first
        assert all(i["child"] and i["child"]["legalFirstName"] for i in items)
        assert all(i["provider"]["type"] == "provider" for i in items)
        assert all(i["commissioner"]["id"] == str(area.la.id) for i in items)
        assert all(len(i["intendedOutcomes"]) == 1 for i in items)
        assert all([r["decision"] for r in i["reviews"]] == ["continue"] for i in items)
        assert all(
            [h["type"] for h in i["history"]]
            == [
                "placement.requested",
                "placement.offered",
                "placement.started",
                "placement.reviewed",
            ]
            for i in items
        )
        counts[first] = (statements.count, list(statements.seen))
    assert counts[5][0] == counts[50][0], (counts[5], counts[50])
    # the page; its children (with the access audit); organisations; reviews; history
    assert counts[50][0] == 5, counts[50]
    assert len(seeded.placement_ids) == 50


async def test_every_child_in_a_graphql_page_is_audited_as_read_through_graphql(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    provider = await registered_provider(db, area)
    seeded = await seed_active_placements(db, area, [provider], 6, children=3)
    result = await gql(client, "{ placements { items { child { id } } } }", area.la_headers)
    assert "errors" not in result, result
    rows = await superuser.fetch(
        "SELECT child_id, outcome FROM access_log_entries WHERE surface = 'graphql' "
        "AND organisation_id = $1",
        area.la.id,
    )
    assert sorted(r["child_id"] for r in rows) == sorted(seeded.child_ids)
    assert {r["outcome"] for r in rows} == {"allowed"}


async def test_batched_child_read_omits_hidden_children_and_audits_every_id(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    elsewhere = await make_area(app, db, la_code="802")
    async with db.writing() as uow:
        found = await gate.read_children_by_ids(
            uow,
            principal_of(area.la),
            [area.child.id, elsewhere.child.id, area.child.id],
            surface="graphql",
        )
    assert list(found) == [area.child.id]
    assert found[area.child.id]["legal_first_name"] == "Jordan"
    outcomes = {
        r["child_id"]: r["outcome"]
        for r in await superuser.fetch("SELECT child_id, outcome FROM access_log_entries")
    }
    assert outcomes == {area.child.id: "allowed", elsewhere.child.id: "denied"}


REQUEST = """
mutation Request($input: PlacementRequestInput!) {
  requestPlacement(input: $input) { id status version attendanceCode }
}
"""


def graphql_request_input(area: Any, **overrides: Any) -> dict[str, Any]:
    """The REST body of a complete request, with GraphQL's field names."""
    body = {**request_body(area), **complete_plan(area), **overrides}
    return {_camel(k): _camel_keys(v) for k, v in body.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


async def test_graphql_mutations_walk_the_lifecycle_with_the_rest_services(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    result = await gql(client, REQUEST, area.la_headers, input=graphql_request_input(area))
    assert "errors" not in result, result
    placement = result["data"]["requestPlacement"]
    pid = placement["id"]
    assert (placement["status"], placement["version"], placement["attendanceCode"]) == (
        "requested",
        1,
        "K",
    )

    async def act(mutation: str, headers: dict[str, str], args: str = "") -> dict[str, Any]:
        result = await gql(
            client,
            f'mutation {{ {mutation}(id: "{pid}"{args}) {{ {PLACEMENT_FIELDS} }} }}',
            headers,
        )
        assert "errors" not in result, result
        return dict(result["data"][mutation])

    assert (await act("offerPlacement", area.provider_headers))["status"] == "offered"
    assert (await act("startPlacement", area.provider_headers, ", ifMatch: 2"))[
        "status"
    ] == "active"
    new_end = (date.today() + timedelta(weeks=20)).isoformat()
    next_review = (date.today() + timedelta(weeks=6)).isoformat()
    result = await gql(
        client,
        """mutation Review($id: UUID!, $input: PlacementReviewInput!) {
             recordPlacementReview(id: $id, input: $input) {
               review { id decision proposedEndDate attendees }
               placement { version nextReviewDate }
             }
           }""",
        area.la_headers,
        id=pid,
        input={
            "heldOn": date.today().isoformat(),
            "attendees": ["child", "commissioner", "provider"],
            "decision": "extend",
            "nextReviewDate": next_review,
            "proposedEndDate": new_end,
        },
    )
    assert "errors" not in result, result
    recorded = result["data"]["recordPlacementReview"]
    assert recorded["review"]["decision"] == "extend"
    assert recorded["placement"] == {"version": 4, "nextReviewDate": next_review}
    review_id = recorded["review"]["id"]
    extended = await act(
        "extendPlacement",
        area.la_headers,
        f', input: {{reviewId: "{review_id}", plannedEndDate: "{new_end}"}}',
    )
    assert extended["plannedEndDate"] == new_end
    await act(
        "proposePlacementEnd",
        area.provider_headers,
        f', input: {{reason: "Ready to return", proposedEndDate: "{new_end}"}}',
    )
    ended = await act(
        "endPlacement",
        area.la_headers,
        ', input: {endReason: "reintegrated", destination: "reintegrated_home_school"}',
    )
    assert ended["status"] == "ended"
    result = await gql(
        client, f'{{ placement(id: "{pid}") {{ {PLACEMENT_FIELDS} }} }}', area.la_headers
    )
    history = result["data"]["placement"]["history"]
    assert [(h["type"], h["version"]) for h in history] == [
        ("placement.requested", 1),
        ("placement.offered", 2),
        ("placement.started", 3),
        ("placement.reviewed", 4),
        ("placement.extended", 5),
        ("placement.end_proposed", 6),
        ("placement.ended", 7),
    ]
    actors = [h["actor"]["organisationId"] for h in history]
    assert actors == [str(area.la.id)] + [str(area.provider.id)] * 2 + [str(area.la.id)] * 2 + [
        str(area.provider.id),
        str(area.la.id),
    ]
    rest = (await client.get(f"/v1/placements/{pid}", headers=area.la_headers)).json()
    assert (rest["version"], rest["status"], rest["planned_end_date"]) == (7, "ended", new_end)
    assert (await verify_chain(db)).ok


async def test_graphql_vary_decline_and_cancel_use_the_rest_rules(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    first = (await requested(client, area))["id"]
    second = (await requested(client, area))["id"]
    result = await gql(
        client,
        f'mutation {{ varyPlacement(id: "{first}", input: {{hoursPerWeek: 12.5, '
        f'transport: "Taxi"}}) {{ version hoursPerWeek transport }} }}',
        area.la_headers,
    )
    assert result["data"]["varyPlacement"] == {
        "version": 2,
        "hoursPerWeek": 12.5,
        "transport": "Taxi",
    }
    result = await gql(
        client,
        f'mutation {{ declinePlacement(id: "{first}", input: {{reason: "No places left"}}) '
        "{ status closingNote } }",
        area.provider_headers,
    )
    # the provider's access ends as it declines, but the answer shows what it did
    assert result["data"]["declinePlacement"] == {
        "status": "declined",
        "closingNote": "No places left",
    }
    result = await gql(
        client,
        f'mutation {{ cancelPlacement(id: "{second}", input: {{reason: "Place found"}}) '
        "{ status } }",
        area.school_headers,
    )
    assert error_codes(result) == ["NOT_FOUND"]  # the school did not commission it
    result = await gql(
        client,
        f'mutation {{ cancelPlacement(id: "{second}", input: {{reason: "Place found"}}) '
        "{ status } }",
        area.la_headers,
    )
    assert result["data"]["cancelPlacement"] == {"status": "cancelled"}


async def test_graphql_input_is_refused_with_the_rest_models_field_errors_and_no_change(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    today = date.today()
    bad = graphql_request_input(
        area,
        start_date=today.isoformat(),
        planned_end_date=(today - timedelta(days=1)).isoformat(),
        primary_reason="bored",
    )
    result = await gql(client, REQUEST, area.la_headers, input=bad)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    fields = {e["field"] for e in result["errors"][0]["extensions"]["errors"]}
    assert "primary_reason" in fields
    assert await superuser.fetchval("SELECT count(*) FROM placements") == 0
    assert await superuser.fetchval("SELECT count(*) FROM events") == 0


async def test_graphql_stale_if_match_is_precondition_failed_and_records_no_event(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    result = await gql(
        client,
        f'mutation {{ offerPlacement(id: "{pid}", ifMatch: 7) {{ status }} }}',
        area.provider_headers,
    )
    assert error_codes(result) == ["PRECONDITION_FAILED"]
    assert result["errors"][0]["extensions"]["status"] == 412
    assert await superuser.fetchval("SELECT count(*) FROM events") == 1
    assert await superuser.fetchval("SELECT version FROM placements") == 1


async def test_graphql_placement_hidden_from_the_caller_is_not_found_and_not_listed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    stranger = auth(token_for(app, await make_org(db, "provider")))
    result = await gql(client, f'{{ placement(id: "{pid}") {{ id }} }}', stranger)
    assert error_codes(result) == ["NOT_FOUND"]
    result = await gql(client, "{ placements { items { id } nextCursor } }", stranger)
    assert result["data"]["placements"] == {"items": [], "nextCursor": None}
    result = await gql(
        client,
        f'{{ placement(id: "{pid}") {{ id child {{ legalFirstName dateOfBirth }} }} }}',
        area.provider_headers,
    )
    # a requested placement's provider sees names and date of birth (sharing.md)
    assert result["data"]["placement"]["child"] == {
        "legalFirstName": "Jordan",
        "dateOfBirth": "2011-05-06",
    }


async def test_graphql_placements_filter_by_status_child_and_provider_and_page_on(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    provider = await registered_provider(db, area)
    seeded = await seed_active_placements(db, area, [provider], 4, children=2)
    await requested(client, area)
    query = """query ($status: PlacementStatus, $child: UUID, $provider: UUID, $after: String) {
      placements(first: 2, status: $status, childId: $child, providerId: $provider,
                 after: $after) { items { id childId status } nextCursor } }"""
    result = await gql(client, query, area.la_headers, status="active")
    page = result["data"]["placements"]
    assert len(page["items"]) == 2
    assert page["nextCursor"]
    result = await gql(client, query, area.la_headers, status="active", after=page["nextCursor"])
    rest = result["data"]["placements"]
    assert len(rest["items"]) == 2
    assert rest["nextCursor"] is None
    ids = {i["id"] for i in page["items"] + rest["items"]}
    assert ids == {str(i) for i in seeded.placement_ids}
    result = await gql(client, query, area.la_headers, child=str(seeded.child_ids[0]))
    assert {i["childId"] for i in result["data"]["placements"]["items"]} == {
        str(seeded.child_ids[0])
    }
    result = await gql(client, query, area.la_headers, provider=str(area.provider.id))
    assert [i["status"] for i in result["data"]["placements"]["items"]] == ["requested"]
