"""Who may change what in the provider directory."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aphub.auth.scopes import SCOPE_BOUNDS
from aphub.db import Database
from aphub.models import Organisation
from tests.factories import auth, make_org, token_for
from tests.provider_factories import (
    add_location,
    add_offer,
    gql,
    make_la,
    make_provider,
    make_school,
    row_counts,
)

OFFER = {
    "type": "vocational",
    "name": "Motor vehicle (KS4)",
    "key_stages": ["ks4"],
    "age_min": 14,
    "age_max": 16,
    "capacity": 12,
    "places_free": 3,
}
LOCATION = {
    "name": "Workshop",
    "address_1": "4 Bartholomew Close",
    "postcode": "ec1a7bl",
    "la_code": "201",
}
APPROVE = {"status": "approved", "reason": "Satisfactory QA visit"}


WRITE_SCOPES = ["providers:read", "providers:write"]


def within_bounds(organisation: Organisation, scopes: list[str]) -> list[str]:
    """The scopes asked for that a client of this organisation could hold at all (an
    operator's or health body's client never holds providers:write)."""
    return [s for s in scopes if s in SCOPE_BOUNDS[organisation.type]]


async def test_provider_edits_its_own_entry_offers_and_locations(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    me = auth(token_for(app, provider))
    base = f"/v1/providers/{provider.id}"

    created = await client.post(f"{base}/locations", json=LOCATION, headers=me)
    assert created.status_code == 201, created.text
    location = created.json()
    assert location["postcode"] == "EC1A 7BL"
    assert created.headers["Location"] == f"{base}/locations/{location['id']}"

    created = await client.post(
        f"{base}/offers", json={**OFFER, "location_ids": [location["id"]]}, headers=me
    )
    assert created.status_code == 201, created.text
    offer = created.json()
    assert offer["location_ids"] == [location["id"]]
    assert created.headers["ETag"] == '"1"'

    changed = await client.patch(
        f"{base}/offers/{offer['id']}",
        json={"places_free": 0},
        headers={**me, "If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["places_free"], changed.json()["version"]) == (0, 2)
    assert changed.json()["capacity"] == 12  # untouched fields keep their values

    moved = await client.patch(
        f"{base}/locations/{location['id']}", json={"city": "London"}, headers=me
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["city"] == "London"

    entry = await client.patch(
        base,
        json={"registration_status": "unregistered", "census_setting_type": "WBP"},
        headers=me,
    )
    assert entry.status_code == 200, entry.text
    assert entry.json()["census_setting_type"] == "WBP"
    assert [o["places_free"] for o in entry.json()["offers"]] == [0]

    assert (
        await client.delete(f"{base}/locations/{location['id']}", headers=me)
    ).status_code == 204
    offers = (await client.get(f"{base}/offers", headers=me)).json()["items"]
    assert offers[0]["location_ids"] == []  # the offer lost the site, and stays
    assert (await client.delete(f"{base}/offers/{offer['id']}", headers=me)).status_code == 204
    assert (await client.get(f"{base}/offers", headers=me)).json()["items"] == []


async def test_put_replaces_the_entry_and_clears_what_it_leaves_out(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    me = auth(token_for(app, provider))
    first = await client.put(
        f"/v1/providers/{provider.id}",
        json={"description": "Workshop", "safeguarding": {"designated_lead_name": "Jo"}},
        headers=me,
    )
    assert first.status_code == 200, first.text
    second = await client.put(
        f"/v1/providers/{provider.id}", json={"description": "Garage"}, headers=me
    )
    assert second.json()["description"] == "Garage"
    assert second.json()["safeguarding"]["designated_lead_name"] is None
    assert second.json()["ukprn"] is None  # identifiers are part of the entry too


async def test_provider_gets_404_editing_another_provider(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    mine, theirs = await make_provider(db, city), await make_provider(db, city)
    offer = await add_offer(db, theirs, capacity=4, places_free=1)
    location = await add_location(db, theirs)
    me = auth(token_for(app, mine))
    base = f"/v1/providers/{theirs.id}"
    before = await row_counts(db)

    attempts = [
        client.patch(base, json={"description": "mine now"}, headers=me),
        client.put(base, json={}, headers=me),
        client.post(f"{base}/offers", json=OFFER, headers=me),
        client.patch(f"{base}/offers/{offer.id}", json={"places_free": 0}, headers=me),
        client.delete(f"{base}/offers/{offer.id}", headers=me),
        client.post(f"{base}/locations", json=LOCATION, headers=me),
        client.patch(f"{base}/locations/{location.id}", json={"city": "x"}, headers=me),
        client.delete(f"{base}/locations/{location.id}", headers=me),
        # another provider's offer, addressed through my own entry
        client.patch(
            f"/v1/providers/{mine.id}/offers/{offer.id}", json={"places_free": 0}, headers=me
        ),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404, response.request.url
        assert response.headers["content-type"] == "application/problem+json"
    assert await row_counts(db) == before
    # and it can still read them: the directory is open to every reader
    assert (await client.get(base, headers=me)).status_code == 200


async def test_provider_gets_403_setting_its_own_qa_status_or_recording_its_own_qa(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    me = auth(token_for(app, provider))
    before = await row_counts(db)

    response = await client.put(f"/v1/providers/{provider.id}/qa-status", json=APPROVE, headers=me)
    assert response.status_code == 403
    assert "own" in response.json()["detail"]
    record = {
        "kind": "visit",
        "conducted_on": date.today().isoformat(),
        "findings": "All good",
        "outcome": "meets_standards",
    }
    response = await client.post(
        f"/v1/providers/{provider.id}/quality-assurance", json=record, headers=me
    )
    assert response.status_code == 403
    assert await row_counts(db) == before


async def test_la_outside_the_providers_area_cannot_set_its_qa_status(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city, camden = await make_la(db, "201"), await make_la(db, "202")
    provider = await make_provider(db, city)
    await add_location(db, provider, "201")
    before = await row_counts(db)

    response = await client.put(
        f"/v1/providers/{provider.id}/qa-status",
        json=APPROVE,
        headers=auth(token_for(app, camden)),
    )

    assert response.status_code == 403
    assert "area" in response.json()["detail"]
    assert await row_counts(db) == before


@pytest.mark.parametrize("via", ["home", "delivery_site"])
async def test_la_whose_area_contains_the_provider_or_a_delivery_site_sets_its_qa_status(
    client: httpx.AsyncClient, app: FastAPI, db: Database, via: str
) -> None:
    city, bristol = await make_la(db, "201"), await make_la(db, "801")
    provider = await make_provider(db, city if via == "home" else bristol)
    if via == "delivery_site":
        await add_location(db, provider, "201")

    response = await client.put(
        f"/v1/providers/{provider.id}/qa-status",
        json={**APPROVE, "next_due_on": (date.today() + timedelta(days=365)).isoformat()},
        headers=auth(token_for(app, city)),
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    assert response.json()["assessor_organisation_id"] == str(city.id)


@pytest.mark.parametrize("org_type", ["school", "trust", "health", "operator"])
async def test_only_local_authorities_set_qa_status(
    client: httpx.AsyncClient, app: FastAPI, db: Database, org_type: str
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    other: Organisation = (
        await make_school(db, city) if org_type == "school" else await make_org(db, org_type)
    )
    scopes = within_bounds(other, WRITE_SCOPES)
    response = await client.put(
        f"/v1/providers/{provider.id}/qa-status",
        json=APPROVE,
        headers=auth(token_for(app, other, scopes=scopes)),
    )
    assert response.status_code == 403


async def test_qa_status_for_a_provider_that_does_not_exist_is_404(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    school = await make_school(db, city)
    response = await client.put(
        f"/v1/providers/{school.id}/qa-status", json=APPROVE, headers=auth(token_for(app, city))
    )
    assert response.status_code == 404


@pytest.mark.parametrize("org_type", ["school", "trust", "local_authority"])
async def test_any_commissioner_raises_a_concern(
    client: httpx.AsyncClient, app: FastAPI, db: Database, org_type: str
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, await make_la(db, "801"))  # not in the City's area
    raiser = {
        "school": lambda: make_school(db, city),
        "trust": lambda: make_org(db, "trust"),
        "local_authority": lambda: make_la(db, "202"),
    }[org_type]
    concern = {"category": "safeguarding", "severity": "high", "reason": "Gate left open"}
    response = await client.post(
        f"/v1/providers/{provider.id}/concerns",
        json=concern,
        headers=auth(token_for(app, await raiser())),
    )
    assert response.status_code == 201, response.text
    assert response.json()["reason"] == "Gate left open"


@pytest.mark.parametrize("org_type", ["provider", "health", "social_care"])
async def test_non_commissioners_cannot_raise_concerns(
    client: httpx.AsyncClient, app: FastAPI, db: Database, org_type: str
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    other = (
        await make_provider(db, city) if org_type == "provider" else await make_org(db, org_type)
    )
    response = await client.post(
        f"/v1/providers/{provider.id}/concerns",
        json={"category": "other", "severity": "low", "reason": "x"},
        headers=auth(
            token_for(
                app, other, scopes=within_bounds(other, ["providers:read", "providers:write"])
            )
        ),
    )
    assert response.status_code == 403


async def test_concern_is_shown_to_the_raiser_the_provider_and_las_of_its_area_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city, camden, bristol = [await make_la(db, c) for c in ("201", "202", "801")]
    provider = await make_provider(db, bristol)
    await add_location(db, provider, "201")  # a delivery site in the City
    raiser, other_school = await make_school(db, camden), await make_school(db, camden)
    raised = await client.post(
        f"/v1/providers/{provider.id}/concerns",
        json={"category": "attendance_reporting", "severity": "medium", "reason": "Late marks"},
        headers=auth(token_for(app, raiser)),
    )
    assert raised.status_code == 201

    async def seen_by(org: Organisation) -> int:
        response = await client.get(
            f"/v1/providers/{provider.id}/concerns", headers=auth(token_for(app, org))
        )
        assert response.status_code == 200
        return len(response.json()["items"])

    assert await seen_by(raiser) == 1
    assert await seen_by(provider) == 1
    assert await seen_by(bristol) == 1  # the provider's own LA
    assert await seen_by(city) == 1  # a delivery site's LA
    assert await seen_by(camden) == 0  # the raiser's LA is not the provider's area
    assert await seen_by(other_school) == 0
    query = f'{{ provider(id: "{provider.id}") {{ concerns {{ reason }} }} }}'
    for org, count in ((city, 1), (other_school, 0)):
        body = await gql(client, token_for(app, org), query)
        assert len(body["data"]["provider"]["concerns"]) == count


async def test_stale_if_match_is_412_and_nothing_changes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    me = auth(token_for(app, provider))
    read = await client.get(f"/v1/providers/{provider.id}", headers=me)
    etag = read.headers["ETag"]
    assert (
        await client.patch(
            f"/v1/providers/{provider.id}",
            json={"description": "one"},
            headers={**me, "If-Match": etag},
        )
    ).status_code == 200
    stale = await client.patch(
        f"/v1/providers/{provider.id}",
        json={"description": "two"},
        headers={**me, "If-Match": etag},
    )
    assert stale.status_code == 412
    assert (await client.get(f"/v1/providers/{provider.id}", headers=me)).json()[
        "description"
    ] == "one"


async def test_a_patch_that_changes_nothing_keeps_the_version(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    me = auth(token_for(app, provider))
    first = await client.patch(
        f"/v1/providers/{provider.id}", json={"phone": "020 7946 0000"}, headers=me
    )
    again = await client.patch(
        f"/v1/providers/{provider.id}", json={"phone": "020 7946 0000"}, headers=me
    )
    assert first.json()["version"] == again.json()["version"] == 2


async def test_identifier_taken_by_another_organisation_is_409(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider, other = await make_provider(db, city), await make_provider(db, city)
    response = await client.patch(
        f"/v1/providers/{provider.id}",
        json={"ukprn": other.ukprn},
        headers=auth(token_for(app, provider)),
    )
    assert response.status_code == 409


async def test_offer_cannot_name_another_providers_location(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider, other = await make_provider(db, city), await make_provider(db, city)
    theirs = await add_location(db, other)
    response = await client.post(
        f"/v1/providers/{provider.id}/offers",
        json={**OFFER, "location_ids": [str(theirs.id)]},
        headers=auth(token_for(app, provider)),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "location_ids"


GRAPHQL_EDIT_OTHER = """
mutation($id: UUID!) { updateProviderEntry(id: $id, input: {description: "mine"}) { id } }
"""
GRAPHQL_SET_STATUS = """
mutation($id: UUID!) {
  setProviderQaStatus(providerId: $id, input: {status: approved, reason: "ok"}) { id }
}
"""


async def test_graphql_applies_the_same_rules(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city, camden = await make_la(db, "201"), await make_la(db, "202")
    mine, theirs = await make_provider(db, city), await make_provider(db, city)
    me = token_for(app, mine)
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        (me, GRAPHQL_EDIT_OTHER, {"id": str(theirs.id)}, "NOT_FOUND"),
        (me, GRAPHQL_SET_STATUS, {"id": str(mine.id)}, "FORBIDDEN"),
        (token_for(app, camden), GRAPHQL_SET_STATUS, {"id": str(mine.id)}, "FORBIDDEN"),
    ]
    for token, query, variables, code in cases:
        body = await gql(client, token, query, variables)
        assert body["errors"][0]["extensions"]["code"] == code, body
    body = await gql(client, token_for(app, city), GRAPHQL_SET_STATUS, {"id": str(mine.id)})
    assert body["data"]["setProviderQaStatus"]["id"] == str(mine.id)


async def test_a_retried_post_with_the_same_idempotency_key_creates_one_offer(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    headers = {**auth(token_for(app, provider)), "Idempotency-Key": "offer-1"}
    url = f"/v1/providers/{provider.id}/offers"
    first = await client.post(url, json=OFFER, headers=headers)
    again = await client.post(url, json=OFFER, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len((await client.get(url, headers=headers)).json()["items"]) == 1
    other = await client.post(url, json={**OFFER, "name": "Other"}, headers=headers)
    assert other.status_code == 422
