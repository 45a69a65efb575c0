"""One truth on every surface: for every organisation, what the feed delivers about a
child or a placement is what REST and GraphQL let it read at that moment, with the same
categories, and the other way round. And the rules that were not the same everywhere:
a trust sees its academies' commissions, a review's views follow `voice`, and health
and social care read the placements of children they are involved with."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Organisation
from tests.factories import auth, make_org, token_for
from tests.placement_factories import active, complete_plan, make_area, request_body, review_body

GRAPHQL_CHILD = "query ($id: UUID!) { child(id: $id) { id access { categories } } }"
GRAPHQL_NESTED = (
    "query ($id: UUID!) { child(id: $id) { placements { id "
    "attendanceSummary { possible } outcomes { placementId } } } }"
)


async def _feed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = "/v1/events?limit=500" + (f"&after={cursor}" if cursor else "")
        page = (await client.get(url, headers=headers)).json()
        events += page["items"]
        if not page["items"]:
            return events
        cursor = page["next_cursor"]


async def _world(client: httpx.AsyncClient, app: FastAPI, db: Database) -> dict[str, Any]:
    area = await make_area(app, db, registration="pru")
    trust = await make_org(db, "trust")
    academy = await make_org(db, "school", local_authority_id=area.la.id, trust_id=trust.id)
    host_la = await make_org(db, "local_authority", la_code="802")
    elsewhere = await make_org(db, "provider", local_authority_id=host_la.id)
    async with db.writing() as unit:
        await unit.execute(
            "INSERT INTO provider_profiles (organisation_id, registration_status, qa_status) "
            "VALUES (:id, 'pru', 'approved')",
            id=elsewhere.id,
        )
    health = await make_org(db, "health")
    stranger = await make_org(db, "provider")
    placement = await active(client, area)
    pid = placement["id"]
    r = await client.post(
        f"/v1/placements/{pid}/reviews",
        json=review_body(child_views="I like the workshop", family_views="Calmer at home"),
        headers=area.provider_headers,
    )
    assert r.status_code == 201, r.text
    # the academy commissions a second placement with a provider in another LA's area
    academy_headers = auth(token_for(app, academy))
    async with db.writing() as unit:
        await unit.execute(
            "INSERT INTO enrolments (id, child_id, school_id, status, start_date) "
            "VALUES (gen_random_uuid(), :child, :school, 'S', '2024-09-01')",
            child=area.child.id,
            school=academy.id,
        )
    body = request_body(area, provider_id=str(elsewhere.id), **complete_plan(area))
    r = await client.post("/v1/placements", json=body, headers=academy_headers)
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    elsewhere_headers = auth(token_for(app, elsewhere))
    for action in ("offer", "start"):
        r = await client.post(
            f"/v1/placements/{second}/{action}", json={}, headers=elsewhere_headers
        )
        assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/children/{area.child.id}/involvements",
        json={"organisation_id": str(health.id), "basis": "ehcp", "start_date": "2025-01-06"},
        headers=area.la_headers,
    )
    assert r.status_code == 201, r.text
    # a change to the record itself, which everyone who sees the child hears of
    r = await client.patch(
        f"/v1/children/{area.child.id}", json={"preferred_name": "Sam"}, headers=area.la_headers
    )
    assert r.status_code == 200, r.text
    return {
        "area": area,
        "placements": {"la": pid, "academy": second},
        "organisations": {
            "home_la": area.la,
            "school": area.school,
            "provider": area.provider,
            "trust": trust,
            "academy": academy,
            "host_la": host_la,
            "provider_elsewhere": elsewhere,
            "health": health,
            "stranger": stranger,
        },
    }


async def test_what_the_feed_delivers_is_what_rest_and_graphql_read_and_back(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    world = await _world(client, app, db)
    child_id = str(world["area"].child.id)
    failures: list[str] = []
    for name, organisation in world["organisations"].items():
        headers = auth(token_for(app, organisation))
        events = [e for e in await _feed(client, headers) if e.get("childid")]
        rest_child = await client.get(f"/v1/children/{child_id}", headers=headers)
        graph = (
            await client.post(
                "/graphql",
                json={"query": GRAPHQL_CHILD, "variables": {"id": child_id}},
                headers=headers,
            )
        ).json()
        graph_child = (graph.get("data") or {}).get("child")
        listed = await client.get("/v1/placements?limit=500", headers=headers)
        readable = {p["id"] for p in listed.json()["items"]} if listed.status_code == 200 else set()
        delivered = {
            e["subject"].split("/")[1] for e in events if e["type"].startswith("placement.")
        }
        # the feed about the child ⇔ the child readable over REST ⇔ over GraphQL
        sees = rest_child.status_code == 200
        if bool(events) != sees:
            failures.append(f"{name}: {len(events)} child events, REST {rest_child.status_code}")
        if (graph_child is not None) != sees:
            failures.append(f"{name}: GraphQL child {graph_child}, REST {rest_child.status_code}")
        if sees and graph_child is not None:
            rest_categories = rest_child.json()["access"]["categories"]
            if sorted(graph_child["access"]["categories"]) != sorted(rest_categories):
                failures.append(f"{name}: categories differ between REST and GraphQL")
            has_placement = "placement" in rest_categories
            if bool(delivered) != (has_placement and bool(readable)):
                failures.append(f"{name}: placement events {delivered}, placements {readable}")
        # the placements the feed speaks of ⇔ the placements REST reads
        if delivered != readable:
            failures.append(
                f"{name}: feed placements {sorted(delivered)} vs REST {sorted(readable)}"
            )
        for pid in readable:
            r = await client.get(f"/v1/placements/{pid}", headers=headers)
            if r.status_code != 200:
                failures.append(f"{name}: listed {pid} but GET is {r.status_code}")
        # GraphQL's nested placements, their attendance and outcomes: what REST reads
        if graph_child is not None:
            failures += await _nested_agree(client, name, headers, child_id, readable)
    assert not failures, "\n".join(failures)


async def _nested_agree(
    client: httpx.AsyncClient, name: str, headers: dict[str, str], child_id: str, readable: set[str]
) -> list[str]:
    result = (
        await client.post(
            "/graphql",
            json={"query": GRAPHQL_NESTED, "variables": {"id": child_id}},
            headers=headers,
        )
    ).json()
    if "errors" in result:
        return [f"{name}: nested GraphQL errors {result['errors']}"]
    nested = {p["id"]: p for p in result["data"]["child"]["placements"]}
    failures = []
    if set(nested) != readable:
        failures.append(f"{name}: Child.placements {sorted(nested)} vs REST {sorted(readable)}")
    for pid, node in nested.items():
        for field, path in (("attendanceSummary", "attendance/summary"), ("outcomes", "outcomes")):
            r = await client.get(f"/v1/placements/{pid}/{path}", headers=headers)
            if (node[field] is not None) != (r.status_code == 200):
                failures.append(f"{name}: Placement.{field} {node[field]} vs REST {r.status_code}")
    return failures


async def test_a_trust_sees_the_commissions_of_its_academies_as_its_own(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    world = await _world(client, app, db)
    trust = auth(token_for(app, world["organisations"]["trust"]))
    listed = await client.get("/v1/placements", headers=trust)
    assert {p["id"] for p in listed.json()["items"]} == {world["placements"]["academy"]}
    summary = await client.get(
        f"/v1/placements/{world['placements']['academy']}/attendance/summary", headers=trust
    )
    assert summary.status_code == 200, summary.text


async def test_the_views_of_the_child_and_family_follow_the_voice_category(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """The host LA sees the placement (a current one in its area) but not `voice`."""
    world = await _world(client, app, db)
    pid = world["placements"]["la"]
    provider = auth(token_for(app, world["organisations"]["provider"]))
    mine = (await client.get(f"/v1/placements/{pid}/reviews", headers=provider)).json()
    assert mine[0]["child_views"] == "I like the workshop"
    host = await make_org(db, "local_authority", la_code="803")
    # the provider is in the home LA's area; a host LA of it sees the placement
    async with db.writing() as unit:
        await unit.execute(
            "UPDATE organisations SET local_authority_id = :la WHERE id = :id",
            la=host.id,
            id=world["organisations"]["provider"].id,
        )
    host_headers = auth(token_for(app, host))
    theirs = await client.get(f"/v1/placements/{pid}/reviews", headers=host_headers)
    assert theirs.status_code == 200, theirs.text
    assert "child_views" not in theirs.json()[0]
    assert "family_views" not in theirs.json()[0]
    query = "query ($id: UUID!) { placement(id: $id) { reviews { childViews familyViews } } }"
    graph = await client.post(
        "/graphql", json={"query": query, "variables": {"id": pid}}, headers=host_headers
    )
    assert graph.json()["data"]["placement"]["reviews"] == [
        {"childViews": None, "familyViews": None}
    ]


async def test_health_and_social_care_read_the_placements_of_children_they_are_involved_with(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    world = await _world(client, app, db)
    health: Organisation = world["organisations"]["health"]
    r = await client.get("/v1/placements", headers=auth(token_for(app, health)))
    assert r.status_code == 200, r.text
    assert {p["id"] for p in r.json()["items"]} == set(world["placements"].values())


def _ends_soon() -> str:
    return (date.today() + timedelta(weeks=4)).isoformat()
