"""Bad input to the directory is a 422 problem naming each field, and writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from tests.factories import auth, token_for
from tests.provider_factories import add_offer, gql, make_la, make_provider, row_counts

PROBLEM_JSON = "application/problem+json"
OFFER = {"type": "vocational", "name": "Motor vehicle (KS4)", "key_stages": ["ks4"]}
TOMORROW = (date.today() + timedelta(days=2)).isoformat()

# (what, where, body, the field the error names)
BAD_INPUT: list[tuple[str, str, dict[str, Any], str]] = [
    ("ukprn with the wrong prefix", "", {"ukprn": "20012345"}, "ukprn"),
    ("ukprn too short", "", {"ukprn": "1001234"}, "ukprn"),
    ("age range min above max", "/offers", {**OFFER, "age_min": 16, "age_max": 11}, "age_max"),
    ("negative capacity", "/offers", {**OFFER, "capacity": -1}, "capacity"),
    ("unknown offer type", "/offers", {**OFFER, "type": "babysitting"}, "type"),
    (
        "places free above capacity",
        "/offers",
        {**OFFER, "capacity": 5, "places_free": 6},
        "places_free",
    ),
    ("places free without capacity", "/offers", {**OFFER, "places_free": 2}, "places_free"),
    ("unknown key stage", "/offers", {**OFFER, "key_stages": ["ks9"]}, "key_stages.0"),
    ("huge capacity", "/offers", {**OFFER, "capacity": 10**20}, "capacity"),
    ("cost without unit", "/offers", {**OFFER, "cost_per_place": "12.50"}, "cost_unit"),
    (
        "end before start",
        "/offers",
        {**OFFER, "start_time": "15:00", "end_time": "09:00"},
        "end_time",
    ),
    ("unknown field", "/offers", {**OFFER, "colour": "blue"}, "colour"),
    ("NUL in a name", "/offers", {**OFFER, "name": "a\u0000b"}, "name"),
    ("overlong name", "/offers", {**OFFER, "name": "x" * 201}, "name"),
    (
        "inspection grade on an unregistered provider",
        "",
        {"registration_status": "unregistered", "ofsted": {"grade": "good"}},
        "ofsted.grade",
    ),
    (
        "census setting type on a registered provider",
        "",
        {"registration_status": "pru", "census_setting_type": "OTH"},
        "census_setting_type",
    ),
    (
        "safeguarding confirmation in the future",
        "",
        {"safeguarding": {"staff_checks_confirmed_on": TOMORROW}},
        "safeguarding.staff_checks_confirmed_on",
    ),
    (
        "bad postcode",
        "/locations",
        {"name": "x", "address_1": "y", "postcode": "nowhere", "la_code": "201"},
        "postcode",
    ),
    (
        "abolished LA code",
        "/locations",
        {"name": "x", "address_1": "y", "postcode": "NN1 1AA", "la_code": "928"},
        "la_code",
    ),
]


@pytest.mark.parametrize(
    ("what", "where", "body", "field"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT]
)
async def test_bad_input_is_422_with_field_errors_and_writes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    what: str,
    where: str,
    body: dict[str, Any],
    field: str,
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    before = await row_counts(db)
    url = f"/v1/providers/{provider.id}{where}"
    send = client.post if where else client.patch

    response = await send(url, json=body, headers=auth(token_for(app, provider)))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    assert field in [e["field"] for e in problem["errors"]], problem
    assert await row_counts(db) == before


async def test_patch_judged_on_the_result_refuses_registering_with_a_census_type_left_behind(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(
        db, await make_la(db, "201"), registration_status="unregistered", census_setting_type="OOT"
    )
    before = await row_counts(db)
    response = await client.patch(
        f"/v1/providers/{provider.id}",
        json={"registration_status": "independent_school"},
        headers=auth(token_for(app, provider)),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "census_setting_type"
    assert await row_counts(db) == before


async def test_patch_of_an_offer_cannot_push_places_free_over_capacity_or_null_its_type(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    offer = await add_offer(db, provider, capacity=5, places_free=1, version=1)
    me = auth(token_for(app, provider))
    before = await row_counts(db)
    url = f"/v1/providers/{provider.id}/offers/{offer.id}"
    for body, field in (({"capacity": 0}, "places_free"), ({"type": None}, "type")):
        response = await client.patch(url, json=body, headers=me)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    assert await row_counts(db) == before


async def test_several_field_errors_are_reported_together(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    response = await client.post(
        f"/v1/providers/{provider.id}/offers",
        json={**OFFER, "age_min": 15, "age_max": 12, "capacity": 1, "places_free": 3},
        headers=auth(token_for(app, provider)),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"age_max", "places_free"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "not_assessed", "reason": "reset"}, "status"),
        ({"status": "approved_with_conditions", "reason": "ok"}, "conditions"),
        ({"status": "approved", "reason": "ok", "conditions": "none"}, "conditions"),
        ({"status": "approved", "reason": "ok", "next_due_on": "2001-01-01"}, "next_due_on"),
        ({"status": "approved", "reason": ""}, "reason"),
        ({"status": "banned", "reason": "x"}, "status"),
    ],
)
async def test_bad_qa_status_is_422_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, Any], field: str
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    before = await row_counts(db)
    response = await client.put(
        f"/v1/providers/{provider.id}/qa-status", json=body, headers=auth(token_for(app, city))
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await row_counts(db) == before


async def test_qa_record_in_the_future_or_due_before_it_happened_is_422(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    record = {"kind": "visit", "findings": "Fine", "outcome": "meets_standards"}
    before = await row_counts(db)
    for extra, field in (
        ({"conducted_on": TOMORROW}, "conducted_on"),
        ({"conducted_on": "2026-01-10", "next_due_on": "2026-01-01"}, "next_due_on"),
    ):
        response = await client.post(
            f"/v1/providers/{provider.id}/quality-assurance",
            json={**record, **extra},
            headers=auth(token_for(app, city)),
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    "query",
    [
        "age=200",
        "age=-1",
        "limit=501",
        "limit=0",
        "la_code=999",
        "ukprn=20000000",
        "offer_type=babysitting",
        "updated_since=0.5",
        "updated_since=0001-01-01T00:00:00%2B14:00",
        "name=a%00b",
        f"name={'x' * 201}",
    ],
)
async def test_bad_search_parameters_are_422(
    client: httpx.AsyncClient, app: FastAPI, db: Database, query: str
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    response = await client.get(f"/v1/providers?{query}", headers=auth(token_for(app, provider)))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON


CREATE_OFFER = """
mutation($id: UUID!, $input: ProviderOfferInput!) {
  createProviderOffer(providerId: $id, input: $input) { id }
}
"""


async def test_graphql_bad_input_gets_the_same_field_errors_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_provider(db, await make_la(db, "201"))
    before = await row_counts(db)
    body = await gql(
        client,
        token_for(app, provider),
        CREATE_OFFER,
        {
            "id": str(provider.id),
            "input": {"type": "vocational", "name": "x", "ageMin": 16, "ageMax": 11},
        },
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["errors"][0]["field"] == "age_max"
    body = await gql(
        client,
        token_for(app, provider),
        'mutation($id: UUID!) { updateProviderEntry(id: $id, input: {ukprn: "20012345"}) { id } }',
        {"id": str(provider.id)},
    )
    assert body["errors"][0]["extensions"]["errors"][0]["field"] == "ukprn"
    assert await row_counts(db) == before
