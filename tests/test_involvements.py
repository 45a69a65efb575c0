"""Involvements of health and social care (what lets them see a child at all) and consent
records: who may record and end them, what they grant, and the same over GraphQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from aphub.events.verify import verify_chain
from aphub.sharing.policy import active_policy
from tests.child_factories import graphql, involve, make_area, make_child, place


async def test_health_body_sees_health_summary_only_while_involvement_is_current(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    health = area.headers(area.health)
    assert (await client.get(f"/v1/children/{cid}", headers=health)).status_code == 404

    involvement = await involve(client, area, cid, area.health, basis="ehcp")
    assert involvement["current"] is True
    r = await client.patch(
        f"/v1/children/{cid}/passport/health",
        json={"health_summary": "Type 1 diabetes; insulin pump"},
        headers=health,
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/v1/children/{cid}", headers=health)
    assert r.status_code == 200, r.text
    assert r.json()["passport"]["health"]["health_summary"] == "Type 1 diabetes; insulin pump"
    assert r.json()["access"]["rules"] == ["health_involvement"]

    r = await client.post(
        f"/v1/children/{cid}/involvements/{involvement['id']}/end",
        json={},
        headers=area.headers(area.la),
    )
    assert r.status_code == 200, r.text
    assert r.json()["current"] is False
    assert date.fromisoformat(r.json()["end_date"]) < date.today() + timedelta(days=1)

    r = await client.get(f"/v1/children/{cid}", headers=health)
    assert r.status_code == 404, r.text
    r = await client.patch(
        f"/v1/children/{cid}/passport/health", json={"health_summary": "x"}, headers=health
    )
    assert r.status_code == 404, r.text


async def test_ending_without_a_date_makes_yesterday_the_last_day(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    involvement = await involve(client, area, cid, area.social_care)
    r = await client.post(
        f"/v1/children/{cid}/involvements/{involvement['id']}/end",
        json={},
        headers=area.headers(area.school),
    )
    assert r.status_code == 200, r.text
    # the server's "today" is England's; allow for a test run across midnight UTC
    yesterday = date.today() - timedelta(days=1)
    assert r.json()["end_date"] in {(yesterday + timedelta(days=d)).isoformat() for d in (-1, 0, 1)}


async def test_involved_organisation_may_end_its_own_involvement_once(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    involvement = await involve(client, area, cid, area.social_care)
    url = f"/v1/children/{cid}/involvements/{involvement['id']}/end"
    headers = area.headers(area.social_care)

    r = await client.post(url, json={}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2

    r = await client.post(url, json={}, headers=area.headers(area.la))
    assert r.status_code == 409, r.text
    types = [row["type"] for row in await superuser.fetch("SELECT type FROM events ORDER BY seq")]
    assert types == ["child.created", "involvement.recorded", "involvement.ended"]


async def test_only_home_la_or_school_on_roll_record_or_end_involvements(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    await place(db, cid, commissioner=area.school, provider=area.provider)
    body = {"organisation_id": str(area.health.id), "basis": "ehcp", "start_date": "2025-01-06"}
    url = f"/v1/children/{cid}/involvements"

    r = await client.post(url, json=body, headers=area.headers(area.provider))
    assert r.status_code == 403, r.text
    r = await client.post(url, json=body, headers=area.headers(area.stranger))
    assert r.status_code == 404, r.text
    r = await client.post(url, json=body, headers=area.headers(area.health))
    assert r.status_code == 404, r.text  # it cannot see the child: not involved yet
    assert await superuser.fetchval("SELECT count(*) FROM involvements") == 0

    r = await client.post(url, json=body, headers=area.headers(area.school))
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{url}/{r.json()['id']}/end", json={}, headers=area.headers(area.provider)
    )
    assert r.status_code == 403, r.text


async def test_involvement_needs_a_health_or_social_care_body_and_valid_dates(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/involvements"
    la = area.headers(area.la)
    base = {"organisation_id": str(area.health.id), "basis": "ehcp", "start_date": "2025-01-06"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "organisation_id": str(area.provider.id)}, "organisation_id"),
        ({**base, "basis": "consent"}, "body"),
        ({**base, "end_date": "2025-01-05"}, "end_date"),
        ({**base, "categories": ["education"]}, "categories"),
        ({**base, "categories": ["gossip"]}, "categories.0"),
        ({**base, "basis": "hunch"}, "basis"),
    ]
    for body, field in cases:
        r = await client.post(url, json=body, headers=la)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.text)
    assert await superuser.fetchval("SELECT count(*) FROM involvements") == 0

    r = await client.post(
        url, json={**base, "basis": "consent", "consent_reference": "CF-2025-17"}, headers=la
    )
    assert r.status_code == 201, r.text
    r = await client.post(url, json=base, headers=la)
    assert r.status_code == 409, r.text  # the same body, overlapping dates
    assert r.json()["existing_id"]


async def test_categories_default_to_the_agreement_and_narrow_what_the_body_sees(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    wide = await involve(client, area, cid, area.social_care)
    granted = active_policy().rules["social_care_involvement"].read.categories
    assert wide["categories"] == sorted(granted)

    await involve(client, area, cid, area.health, categories=["identity", "health"])
    r = await client.get(f"/v1/children/{cid}", headers=area.headers(area.health))
    assert r.status_code == 200, r.text
    assert r.json()["access"]["categories"] == ["health", "identity"]
    assert "passport" in r.json()  # the health section, empty
    assert set(r.json()["passport"]) == {"health"}


async def test_involvements_list_shows_organisation_basis_period_and_categories(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    await involve(client, area, cid, area.health, basis="ehcp", categories=["health", "identity"])
    await involve(client, area, cid, area.social_care, basis="looked_after", end_date="2025-06-30")

    r = await client.get(f"/v1/children/{cid}/involvements", headers=area.headers(area.la))

    assert r.status_code == 200, r.text
    first, second = r.json()["items"]
    assert first["organisation_name"] == area.health.name
    assert first["organisation_type"] == "health"
    assert (first["basis"], first["start_date"], first["end_date"]) == ("ehcp", "2025-01-06", None)
    assert first["categories"] == ["health", "identity"]
    assert first["current"] is True
    assert (second["basis"], second["end_date"], second["current"]) == (
        "looked_after",
        "2025-06-30",
        False,
    )
    r = await client.get(f"/v1/children/{cid}/involvements", headers=area.headers(area.stranger))
    assert r.status_code == 404, r.text
    r = await client.get(f"/v1/children/{cid}/involvements?limit=1", headers=area.headers(area.la))
    assert len(r.json()["items"]) == 1, r.text
    assert r.json()["next_cursor"], r.text


# --- consents -------------------------------------------------------------------------

CONSENT = {
    "purpose": "Share the health summary with the AP provider",
    "given_by": "Sara Khan",
    "relationship_to_child": "parent",
    "given_on": "2025-09-01",
}


async def test_consents_recorded_by_writers_seen_by_contact_readers(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    await place(db, cid, commissioner=area.school, provider=area.provider)
    requested = area.stranger
    await place(db, cid, commissioner=area.school, provider=requested, status="requested")
    url = f"/v1/children/{cid}/consents"

    r = await client.post(url, json=CONSENT, headers=area.headers(requested))
    assert r.status_code == 403, r.text  # it may change nothing of the record
    r = await client.post(url, json=CONSENT, headers=area.headers(area.school))
    assert r.status_code == 201, r.text
    consent = r.json()
    assert consent["withdrawn_on"] is None

    r = await client.get(url, headers=area.headers(area.provider))
    assert r.status_code == 200, r.text
    assert [c["given_by"] for c in r.json()["items"]] == ["Sara Khan"]
    r = await client.get(url, headers=area.headers(requested))
    assert r.status_code == 403, r.text  # sees the child, not its contacts

    withdraw = f"{url}/{consent['id']}/withdraw"
    r = await client.post(
        withdraw, json={"withdrawn_on": "2025-08-01"}, headers=area.headers(area.la)
    )
    assert r.status_code == 422, r.text
    r = await client.post(
        withdraw, json={"withdrawn_on": "2025-10-01"}, headers=area.headers(area.la)
    )
    assert r.status_code == 200, r.text
    assert r.json()["withdrawn_on"] == "2025-10-01"
    r = await client.post(withdraw, json={}, headers=area.headers(area.la))
    assert r.status_code == 409, r.text

    events = await superuser.fetch("SELECT type, data FROM events WHERE subject_type = 'consent'")
    assert [e["type"] for e in events] == ["consent.recorded", "consent.withdrawn"]
    assert "Sara" not in events[0]["data"]  # names stay in the record


async def test_consent_input_is_validated(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/consents"
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    for body, field in [
        ({**CONSENT, "relationship_to_child": "neighbour"}, "relationship_to_child"),
        ({**CONSENT, "given_on": tomorrow}, "given_on"),
        ({**CONSENT, "withdrawn_on": "2025-01-01"}, "withdrawn_on"),
        ({**CONSENT, "purpose": ""}, "purpose"),
        ({**CONSENT, "given_by": "x" * 201}, "given_by"),
    ]:
        r = await client.post(url, json=body, headers=area.headers(area.la))
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert await superuser.fetchval("SELECT count(*) FROM consents") == 0


# --- GraphQL ---------------------------------------------------------------------------

RECORD = """
mutation($child: UUID!, $input: InvolvementInput!) {
  recordInvolvement(childId: $child, input: $input) { id current categories organisationName }
}
"""
END = """
mutation($child: UUID!, $id: UUID!) {
  endInvolvement(childId: $child, involvementId: $id) { id current endDate version }
}
"""
CONSENT_MUTATIONS = """
mutation($child: UUID!, $input: ConsentInput!) {
  recordConsent(childId: $child, input: $input) { id givenBy withdrawnOn }
}
"""


async def test_graphql_involvement_and_consent_mutations_use_the_same_rules(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    la = area.headers(area.la)
    health_input = {
        "organisationId": str(area.health.id),
        "basis": "ehcp",
        "startDate": "2025-01-06",
    }

    result = await graphql(
        client, RECORD, la, child=cid, input={**health_input, "basis": "consent"}
    )
    error = result["errors"][0]["extensions"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["errors"][0]["message"] == "consent_reference is required when basis is consent"

    result = await graphql(client, RECORD, la, child=cid, input=health_input)
    assert "errors" not in result, result
    involvement = result["data"]["recordInvolvement"]
    assert involvement["current"] is True
    assert involvement["organisationName"] == area.health.name

    result = await graphql(client, END, area.headers(area.health), child=cid, id=involvement["id"])
    assert "errors" not in result, result
    assert result["data"]["endInvolvement"]["current"] is False
    result = await graphql(client, END, area.headers(area.health), child=cid, id=involvement["id"])
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # it no longer sees the child

    consent_input = {
        "purpose": "x",
        "givenBy": "Sara Khan",
        "relationshipToChild": "parent",
        "givenOn": "2025-09-01",
    }
    result = await graphql(client, CONSENT_MUTATIONS, la, child=cid, input=consent_input)
    assert "errors" not in result, result
    consent_id = result["data"]["recordConsent"]["id"]
    result = await graphql(
        client,
        "mutation($child: UUID!, $id: UUID!) { withdrawConsent(childId: $child, consentId: $id) "
        "{ withdrawnOn } }",
        la,
        child=cid,
        id=consent_id,
    )
    assert result["data"]["withdrawConsent"]["withdrawnOn"] == date.today().isoformat()

    types = [r["type"] for r in await superuser.fetch("SELECT type FROM events ORDER BY seq")]
    assert types == [
        "child.created",
        "involvement.recorded",
        "involvement.ended",
        "consent.recorded",
        "consent.withdrawn",
    ]
    assert (await verify_chain(db)).ok


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    with database.observing() as seen:
        yield seen


async def test_graphql_nested_involvements_and_consents_are_batched(
    client: httpx.AsyncClient, app: FastAPI, db: Database, statements: list[str]
) -> None:
    area = await make_area(app, db)
    for n in range(4):
        cid = await make_child(client, area, legal_first_name=f"Child{n}")
        await involve(client, area, cid, area.health, basis="ehcp")
        r = await client.post(
            f"/v1/children/{cid}/consents", json=CONSENT, headers=area.headers(area.la)
        )
        assert r.status_code == 201, r.text
    statements.clear()

    result = await graphql(
        client,
        "{ children { items { id involvements { organisationName basis } "
        "consents { givenBy } } } }",
        area.headers(area.la),
    )

    assert "errors" not in result, result
    items = result["data"]["children"]["items"]
    assert len(items) == 4
    assert all(len(c["involvements"]) == 1 and len(c["consents"]) == 1 for c in items)
    assert len([s for s in statements if "FROM involvements" in s]) == 1
    assert len([s for s in statements if "FROM consents" in s]) == 1


async def test_an_involvement_recorded_today_or_not_yet_started_is_withdrawn_at_once(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """Access granted in error stops with the request that ends it, even on the
    involvement's first day: it is withdrawn (last day = the day before its start)."""
    area = await make_area(app, db)
    cid = await make_child(client, area)
    today = datetime.now(ZoneInfo("Europe/London")).date()
    health = area.headers(area.health)
    started = await involve(client, area, cid, area.health, start_date=today.isoformat())
    assert (await client.get(f"/v1/children/{cid}", headers=health)).status_code == 200
    url = f"/v1/children/{cid}/involvements/{started['id']}/end"

    r = await client.post(url, json={}, headers=area.headers(area.la))

    assert r.status_code == 200, r.text
    assert r.json()["end_date"] == (today - timedelta(days=1)).isoformat()
    assert r.json()["current"] is False
    assert (await client.get(f"/v1/children/{cid}", headers=health)).status_code == 404
    r = await client.post(url, json={}, headers=area.headers(area.la))
    assert r.status_code == 409, r.text
    assert "withdrawn" in r.json()["detail"]

    later = (today + timedelta(days=7)).isoformat()
    planned = await involve(client, area, cid, area.social_care, start_date=later)
    r = await client.post(
        f"/v1/children/{cid}/involvements/{planned['id']}/end",
        json={},
        headers=area.headers(area.la),
    )
    assert r.status_code == 200, r.text
    assert r.json()["end_date"] == (today + timedelta(days=6)).isoformat()
    data = await superuser.fetchval(
        "SELECT data FROM events WHERE type = 'involvement.ended' AND subject_id = $1",
        uuid.UUID(planned["id"]),
    )
    assert '"withdrawn": true' in data
    # a withdrawn involvement blocks no new one for the same dates
    again = await involve(client, area, cid, area.social_care, start_date=later)
    assert again["id"] != planned["id"]
