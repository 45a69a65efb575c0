"""Searching the provider directory, by REST and by GraphQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from aphub.db import Database
from aphub.demo import DemoArea, load_organisations
from aphub.demo.providers import load_provider_directory
from aphub.models import Organisation
from tests.factories import auth, make_org, register_client, token_for
from tests.provider_factories import (
    PROVIDER_FIELDS,
    add_location,
    add_offer,
    gql,
    ids,
    make_la,
    make_provider,
    make_school,
    snake,
)

APPROVED_UNREGISTERED = {"registration_status": "unregistered", "qa_status": "approved"}
KS4_VOCATIONAL_FREE = {
    "type": "vocational",
    "key_stages": ["ks4"],
    "capacity": 10,
    "places_free": 3,
}
REST_CRITERIA = {
    "key_stage": "ks4",
    "offer_type": "vocational",
    "registration_status": "unregistered",
    "qa_status": "approved",
    "has_free_places": "true",
    "la_code": "201",
}
GRAPHQL_SEARCH = f"""
query {{
  providers(keyStage: ks4, offerType: [vocational], registrationStatus: [unregistered],
            qaStatus: [approved], hasFreePlaces: true, laCode: "201") {{
    items {{ {PROVIDER_FIELDS} }}
    nextCursor
  }}
}}
"""


async def _search(client: httpx.AsyncClient, token: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/providers", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_school_finds_ks4_vocational_unregistered_qa_approved_with_places_in_la_201_by_rest_and_graphql(  # noqa: E501
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city, bristol = await make_la(db, "201"), await make_la(db, "801")
    school = await make_school(db, city)

    in_city = await make_provider(db, city, "In the City", **APPROVED_UNREGISTERED)
    site = await add_location(db, in_city, "201")
    await add_offer(db, in_city, [site], **KS4_VOCATIONAL_FREE, age_min=14, age_max=16)
    with_city_site = await make_provider(db, bristol, "Site in the City", **APPROVED_UNREGISTERED)
    await add_location(db, with_city_site, "801", postcode="BS1 5TR")
    await add_offer(
        db, with_city_site, [await add_location(db, with_city_site, "201")], **KS4_VOCATIONAL_FREE
    )

    # near misses, each failing one criterion
    registered = await make_provider(
        db, city, "Registered", registration_status="independent_school", qa_status="approved"
    )
    await add_offer(db, registered, **KS4_VOCATIONAL_FREE)
    conditional = await make_provider(
        db,
        city,
        "Approved with conditions",
        registration_status="unregistered",
        qa_status="approved_with_conditions",
    )
    await add_offer(db, conditional, **KS4_VOCATIONAL_FREE)
    full = await make_provider(db, city, "Full", **APPROVED_UNREGISTERED)
    await add_offer(db, full, **{**KS4_VOCATIONAL_FREE, "places_free": 0})
    ks3 = await make_provider(db, city, "KS3 only", **APPROVED_UNREGISTERED)
    await add_offer(db, ks3, **{**KS4_VOCATIONAL_FREE, "key_stages": ["ks3"]})
    split = await make_provider(db, city, "Criteria across two offers", **APPROVED_UNREGISTERED)
    await add_offer(db, split, **{**KS4_VOCATIONAL_FREE, "key_stages": ["ks3"]})
    await add_offer(db, split, **{**KS4_VOCATIONAL_FREE, "type": "tuition"})
    elsewhere = await make_provider(db, bristol, "Bristol only", **APPROVED_UNREGISTERED)
    await add_offer(
        db, elsewhere, [await add_location(db, elsewhere, "801")], **KS4_VOCATIONAL_FREE
    )
    unassessed = await make_provider(db, city, "No directory data yet")
    await add_offer(db, unassessed, **KS4_VOCATIONAL_FREE)

    token = token_for(app, school)
    rest = await _search(client, token, **REST_CRITERIA)
    assert ids(rest) == sorted([in_city.id, with_city_site.id])
    assert [p["name"] for p in rest] == ["In the City", "Site in the City"]
    assert all(p["offers"] and p["locations"] for p in rest)

    graphql = await gql(client, token, GRAPHQL_SEARCH)
    assert "errors" not in graphql, graphql
    assert graphql["data"]["providers"]["nextCursor"] is None
    assert snake(graphql["data"]["providers"]["items"]) == snake(rest)


async def test_demo_area_has_two_unregistered_approved_ks4_vocational_providers_with_places_in_la_201(  # noqa: E501
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    async with db.writing() as uow:
        area = DemoArea()
        await load_organisations(uow, area)
        await load_provider_directory(uow, area)
    await register_client(db, area.orgs["school_aldgate"])
    token = token_for(app, area.orgs["school_aldgate"])

    found = await _search(client, token, **REST_CRITERIA)

    assert sorted(p["name"] for p in found) == [
        "Build Up Construction Academy",
        "Motor Skills Workshop CIC",
    ]
    graphql = await gql(client, token, GRAPHQL_SEARCH)
    assert snake(graphql["data"]["providers"]["items"]) == snake(found)
    # the near misses are there, one criterion short each
    near = {k: v for k, v in REST_CRITERIA.items() if k != "registration_status"}
    assert "Thames Independent School" in [p["name"] for p in await _search(client, token, **near)]
    near = {k: v for k, v in REST_CRITERIA.items() if k != "has_free_places"}
    assert "Street League Sport Mentoring" in [
        p["name"] for p in await _search(client, token, **near)
    ]
    near = {k: v for k, v in REST_CRITERIA.items() if k != "key_stage"}
    assert "Green Shoots Therapeutic Education" in [
        p["name"] for p in await _search(client, token, **near)
    ]


async def test_search_pages_follow_next_cursor_in_id_order_without_overlap(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    made = [(await make_provider(db, city, f"Provider {n}")).id for n in range(5)]
    token = token_for(app, await make_school(db, city))

    seen: list[uuid.UUID] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/providers", params=params, headers=auth(token))
        body = response.json()
        seen += ids(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(made)


async def test_a_cursor_the_hub_did_not_issue_is_422(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    token = token_for(app, await make_school(db, await make_la(db, "201")))
    response = await client.get("/v1/providers?cursor=bm9wZQ", headers=auth(token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_updated_since_returns_only_entries_changed_since_in_update_order(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    first = await make_provider(db, city, "First")
    second = await make_provider(db, city, "Second")
    await make_provider(db, city, "Untouched")
    token = token_for(app, await make_school(db, city))
    since = datetime.now(UTC)

    for provider in (second, first):  # second changes first
        response = await client.patch(
            f"/v1/providers/{provider.id}",
            json={"description": "changed"},
            headers=auth(token_for(app, provider)),
        )
        assert response.status_code == 200, response.text

    changed = await _search(client, token, updated_since=since.isoformat())
    assert ids(changed) == [second.id, first.id]


async def test_offer_change_moves_the_entry_into_a_delta_sync(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    offer = await add_offer(db, provider, capacity=5, places_free=0)
    since = datetime.now(UTC)
    response = await client.patch(
        f"/v1/providers/{provider.id}/offers/{offer.id}",
        json={"places_free": 2},
        headers=auth(token_for(app, provider)),
    )
    assert response.status_code == 200, response.text
    token = token_for(app, await make_school(db, city))
    changed = await _search(client, token, updated_since=since.isoformat())
    assert ids(changed) == [provider.id]
    assert changed[0]["offers"][0]["places_free"] == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"age": 15}, ["teen"]),
        ({"age": 9}, ["junior"]),
        ({"send_specialism": "autism"}, ["junior"]),
        ({"qualification": "gcse"}, ["teen"]),
        ({"time_basis": "full_time"}, ["teen"]),  # offers of either basis match
        ({"time_basis": "part_time"}, ["junior", "teen"]),
        ({"offer_type": ["therapeutic", "tuition"]}, ["junior", "teen"]),
        ({"has_free_places": "false"}, ["junior"]),
        ({"name": "teen"}, ["teen"]),
        ({"name": "100%"}, []),  # LIKE wildcards are matched literally
        ({"census_setting_type": "OOT"}, ["teen"]),
        ({"la_code": "202"}, []),
    ],
)
async def test_search_filters_by_offer_and_entry_fields(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    params: dict[str, Any],
    expected: list[str],
) -> None:
    city = await make_la(db, "201")
    junior = await make_provider(db, city, "Junior therapeutic", registration_status="unregistered")
    await add_offer(
        db,
        junior,
        type="therapeutic",
        age_min=7,
        age_max=11,
        time_basis="part_time",
        send_specialisms=["autism"],
        capacity=4,
        places_free=0,
    )
    teen = await make_provider(
        db, city, "Teen tuition", registration_status="unregistered", census_setting_type="OOT"
    )
    await add_offer(
        db,
        teen,
        type="tuition",
        age_min=14,
        age_max=16,
        time_basis="either",
        qualifications=["gcse"],
        capacity=4,
        places_free=2,
    )
    token = token_for(app, await make_school(db, city))
    found = await _search(client, token, **params)
    names = {junior.id: "junior", teen.id: "teen"}
    assert sorted(names[i] for i in ids(found)) == expected


async def test_inactive_providers_are_left_out_of_the_search_but_still_readable(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    gone = await make_org(db, "provider", local_authority_id=city.id, active=False)
    token = token_for(app, await make_school(db, city))
    assert await _search(client, token) == []
    response = await client.get(f"/v1/providers/{gone.id}", headers=auth(token))
    assert response.status_code == 200
    assert response.json()["active"] is False


async def test_provider_without_directory_data_reads_as_not_assessed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city, "New provider")
    token = token_for(app, await make_school(db, city))

    response = await client.get(f"/v1/providers/{provider.id}", headers=auth(token))

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert body["quality_assurance"]["status"] == "not_assessed"
    assert body["registration_status"] is None
    assert body["la_code"] == "201"
    assert (body["offers"], body["locations"], body["alerts"]) == ([], [], [])
    search = await _search(client, token, qa_status="not_assessed")
    assert ids(search) == [provider.id]


async def test_an_organisation_that_is_not_a_provider_is_not_in_the_directory(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    school = await make_school(db, city)
    token = token_for(app, school)
    for path in (f"/v1/providers/{school.id}", f"/v1/providers/{uuid.uuid4()}/offers"):
        response = await client.get(path, headers=auth(token))
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_every_organisation_with_providers_read_may_search_and_others_may_not(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    await make_provider(db, city)
    for org_type in ("health", "social_care", "dashboard", "operator", "provider", "trust"):
        reader = await make_org(db, org_type)
        response = await client.get("/v1/providers", headers=auth(token_for(app, reader)))
        assert response.status_code == 200, org_type
    no_scope = token_for(app, await make_school(db, city), scopes=["placements:read"])
    response = await client.get("/v1/providers", headers=auth(no_scope))
    assert response.status_code == 403
    graphql = await gql(client, no_scope, "{ providers { items { id } } }")
    assert graphql["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_demo_directory_loads_through_the_services_with_a_verifiable_log(
    db: Database,
) -> None:
    from aphub.events.verify import verify_chain

    async with db.writing() as uow:
        area = DemoArea()
        await load_organisations(uow, area)
        await load_provider_directory(uow, area)
    async with db.writing() as uow:
        names = set(
            await uow.session.scalars(
                select(Organisation.name).where(Organisation.type == "provider")
            )
        )
    assert len(names) == 12
    result = await verify_chain(db)
    assert result.ok
    assert result.checked > 50
