"""The directory over GraphQL: batched nested lists, and the same writes as REST."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.factories import auth, read_client_record, token_for
from tests.provider_factories import (
    PROVIDER_FIELDS,
    add_location,
    add_offer,
    gql,
    make_la,
    make_provider,
    make_school,
    snake,
)

PAGE = """
query($first: Int!) {
  providers(first: $first) {
    items {
      id name
      offers { id locationIds }
      locations { id laCode }
      qualityAssuranceRecords { id }
      qaStatusHistory { id }
      concerns { id }
      alerts { code }
    }
    nextCursor
  }
}
"""


@contextmanager
def counted_statements(db: Database) -> Iterator[list[str]]:
    with db.observing() as statements:
        yield statements


async def test_graphql_provider_page_runs_a_fixed_number_of_statements_whatever_its_size(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    for n in range(25):
        provider = await make_provider(db, city, f"Provider {n:02}", qa_status="approved")
        sites = [await add_location(db, provider, "201"), await add_location(db, provider, "202")]
        await add_offer(db, provider, sites, type="tuition", name="Tuition")
        await add_offer(db, provider, sites[:1], type="vocational", name="Vocational")
    token = token_for(app, await make_school(db, city))
    await read_client_record(client, auth(token))

    counts = {}
    for size in (1, 5, 25):
        with counted_statements(db) as statements:
            body = await gql(client, token, PAGE, {"first": size})
        assert "errors" not in body, body
        items = body["data"]["providers"]["items"]
        assert len(items) == size
        assert all(len(i["offers"]) == 2 and len(i["locations"]) == 2 for i in items)
        counts[size] = len(statements)

    # the page, then one statement per nested list: offers, locations, QA records,
    # QA history, concerns
    assert counts == {1: 6, 5: 6, 25: 6}


async def test_rest_search_page_runs_a_fixed_number_of_statements_whatever_its_size(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    for n in range(12):
        provider = await make_provider(db, city, f"Provider {n:02}")
        await add_offer(db, provider, [await add_location(db, provider)])
    token = token_for(app, await make_school(db, city))
    await read_client_record(client, auth(token))
    counts = {}
    for size in (1, 12):
        with counted_statements(db) as statements:
            response = await client.get(f"/v1/providers?limit={size}", headers=auth(token))
        assert len(response.json()["items"]) == size
        counts[size] = len(statements)
    assert counts == {1: 3, 12: 3}  # the page, its offers, its locations


PROVIDER = f"""
query($id: UUID!) {{
  provider(id: $id) {{
    {PROVIDER_FIELDS}
    qualityAssuranceRecords {{ kind conductedOn outcome findings assessorOrganisationId }}
    qaStatusHistory {{ fromStatus toStatus reason }}
    concerns {{ category severity reason }}
  }}
}}
"""
CREATE_LOCATION = """
mutation($id: UUID!, $input: ProviderLocationInput!) {
  createProviderLocation(providerId: $id, input: $input) { id postcode laCode }
}
"""
CREATE_OFFER = """
mutation($id: UUID!, $input: ProviderOfferInput!) {
  createProviderOffer(providerId: $id, input: $input) { id version locationIds costPerPlace }
}
"""
UPDATE_OFFER = """
mutation($id: UUID!, $offer: UUID!, $input: ProviderOfferPatchInput!, $ifMatch: Int) {
  updateProviderOffer(providerId: $id, offerId: $offer, input: $input, ifMatch: $ifMatch) {
    placesFree capacity version
  }
}
"""
UPDATE_ENTRY = """
mutation($id: UUID!, $input: ProviderEntryInput!) {
  updateProviderEntry(id: $id, input: $input) {
    registrationStatus safeguarding { designatedLeadName } version
  }
}
"""
RECORD_QA = """
mutation($id: UUID!, $input: ProviderQaRecordInput!) {
  recordProviderQualityAssurance(providerId: $id, input: $input) { id outcome }
}
"""
SET_STATUS = """
mutation($id: UUID!, $input: ProviderQaStatusInput!) {
  setProviderQaStatus(providerId: $id, input: $input) { qualityAssurance { status nextDueOn } }
}
"""
RAISE_CONCERN = """
mutation($id: UUID!, $input: ProviderConcernInput!) {
  raiseProviderConcern(providerId: $id, input: $input) { id raisedByOrganisationId }
}
"""


async def test_graphql_writes_the_directory_and_reads_it_back_as_rest_does(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    school = await make_school(db, city)
    me, la = token_for(app, provider), token_for(app, city)
    pid = str(provider.id)

    async def ok(token: str, query: str, **variables: Any) -> dict[str, Any]:
        body = await gql(client, token, query, {"id": pid, **variables})
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    site = await ok(
        me,
        CREATE_LOCATION,
        input={
            "name": "Workshop",
            "address1": "4 Bartholomew Close",
            "postcode": "ec1a7bl",
            "laCode": "201",
        },
    )
    location_id = site["createProviderLocation"]["id"]
    assert site["createProviderLocation"]["postcode"] == "EC1A 7BL"
    offer = (
        await ok(
            me,
            CREATE_OFFER,
            input={
                "type": "vocational",
                "name": "Motor vehicle",
                "keyStages": ["ks4"],
                "capacity": 10,
                "placesFree": 4,
                "costPerPlace": "70.00",
                "costUnit": "per_day",
                "locationIds": [location_id],
            },
        )
    )["createProviderOffer"]
    assert offer["locationIds"] == [location_id]
    assert offer["costPerPlace"] == "70.00"
    updated = await ok(
        me, UPDATE_OFFER, offer=offer["id"], input={"placesFree": 1}, ifMatch=offer["version"]
    )
    assert updated["updateProviderOffer"] == {"placesFree": 1, "capacity": 10, "version": 2}
    stale = await gql(
        client,
        me,
        UPDATE_OFFER,
        {"id": pid, "offer": offer["id"], "input": {"placesFree": 2}, "ifMatch": 1},
    )
    assert stale["errors"][0]["extensions"]["code"] == "PRECONDITION_FAILED"
    entry = await ok(
        me,
        UPDATE_ENTRY,
        input={"registrationStatus": "unregistered", "safeguarding": {"designatedLeadName": "Jo"}},
    )
    assert entry["updateProviderEntry"]["safeguarding"] == {"designatedLeadName": "Jo"}

    visited = (date.today() - timedelta(days=1)).isoformat()
    await ok(
        la,
        RECORD_QA,
        input={
            "kind": "visit",
            "conductedOn": visited,
            "findings": "Good",
            "outcome": "meets_standards",
        },
    )
    due = (date.today() + timedelta(days=365)).isoformat()
    status = await ok(
        la, SET_STATUS, input={"status": "approved", "reason": "Visit", "nextDueOn": due}
    )
    assert status["setProviderQaStatus"]["qualityAssurance"] == {
        "status": "approved",
        "nextDueOn": due,
    }
    concern = await ok(
        token_for(app, school),
        RAISE_CONCERN,
        input={"category": "communication", "severity": "low", "reason": "Slow replies"},
    )
    assert concern["raiseProviderConcern"]["raisedByOrganisationId"] == str(school.id)

    read = (await ok(me, PROVIDER))["provider"]
    assert read["qualityAssuranceRecords"][0]["conductedOn"] == visited
    assert read["qaStatusHistory"] == [
        {"fromStatus": "not_assessed", "toStatus": "approved", "reason": "Visit"}
    ]
    assert read["concerns"] == [
        {"category": "communication", "severity": "low", "reason": "Slow replies"}
    ]
    rest = (await client.get(f"/v1/providers/{pid}", headers=auth(me))).json()
    shared = {
        k: v
        for k, v in read.items()
        if k not in ("qualityAssuranceRecords", "qaStatusHistory", "concerns")
    }
    assert snake(shared) == snake(rest)


async def test_graphql_page_size_is_bounded_before_any_sql(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    token = token_for(app, await make_school(db, await make_la(db, "201")))
    await read_client_record(client, auth(token))
    with counted_statements(db) as statements:
        body = await gql(client, token, PAGE, {"first": 501})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert statements == []
