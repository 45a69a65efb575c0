from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.factories import auth, make_org, token_for


async def test_child_visible_to_home_la_and_school_not_provider(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser
) -> None:
    la = await make_org(db, "local_authority", la_code="801")
    school = await make_org(db, "school", local_authority_id=la.id)
    provider = await make_org(db, "provider")
    body = {
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "date_of_birth": "2012-03-04",
        "upn": "H801200001001",
        "home_la_id": str(la.id),
        "enrolments": [{"school_id": str(school.id), "status": "C", "start_date": "2023-09-01"}],
    }
    r = await client.post("/v1/children", json=body, headers=auth(token_for(app, school)))
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["access"]["rules"] == ["school_on_roll"], child
    assert "has_medical_needs" in child
    assert "nhs_number" in child
    cid = child["id"]
    r = await client.get(f"/v1/children/{cid}", headers=auth(token_for(app, la)))
    assert r.status_code == 200, r.text
    assert r.json()["access"]["rules"] == ["la_home"]
    r = await client.get(f"/v1/children/{cid}", headers=auth(token_for(app, provider)))
    assert r.status_code == 404, r.text
    r = await client.get("/v1/children", headers=auth(token_for(app, la)))
    assert [c["id"] for c in r.json()["items"]] == [cid], r.text
    r = await client.get("/v1/children", headers=auth(token_for(app, provider)))
    assert r.json()["items"] == [], r.text
    r = await client.get("/v1/children?upn=H801200001001", headers=auth(token_for(app, school)))
    assert len(r.json()["items"]) == 1, r.text
    r = await client.post("/v1/children", json=body, headers=auth(token_for(app, school)))
    assert r.status_code == 200, r.text  # the same child again: matched, not made twice
    assert r.json()["id"] == cid
    rows = await superuser.fetch(
        "SELECT outcome, rules, categories, action FROM access_log_entries ORDER BY at"
    )
    assert len(rows) == 6  # create, LA read, provider denied, LA list, UPN match, the match


async def test_graphql_child_matches_rest(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = await make_org(db, "local_authority", la_code="801")
    school = await make_org(db, "school", local_authority_id=la.id)
    body = {
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "date_of_birth": "2012-03-04",
        "home_la_id": str(la.id),
        "enrolments": [{"school_id": str(school.id), "status": "C", "start_date": "2023-09-01"}],
    }
    headers = auth(token_for(app, school))
    cid = (await client.post("/v1/children", json=body, headers=headers)).json()["id"]
    query = (
        "query($id: UUID!) { child(id: $id) { id legalFirstName hasMedicalNeeds nhsNumber "
        "access { rules categories } enrolments { status } } "
        "children { items { id } nextCursor } }"
    )
    r = await client.post(
        "/graphql", json={"query": query, "variables": {"id": cid}}, headers=headers
    )
    data = r.json()
    assert "errors" not in data, data
    assert data["data"]["child"]["legalFirstName"] == "Amira"
    assert data["data"]["children"]["items"] == [{"id": cid}]


async def test_denied_read_is_audited_even_when_the_request_rolls_back(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    la = await make_org(db, "local_authority", la_code="801")
    school = await make_org(db, "school", local_authority_id=la.id)
    provider = await make_org(db, "provider")
    body = {
        "legal_first_name": "Sam",
        "legal_last_name": "Okafor",
        "date_of_birth": "2011-01-02",
        "home_la_id": str(la.id),
        "enrolments": [{"school_id": str(school.id), "status": "C", "start_date": "2023-09-01"}],
    }
    cid = (
        await client.post("/v1/children", json=body, headers=auth(token_for(app, school)))
    ).json()["id"]
    # the organisations field opens the transaction first; the hidden child then fails the request
    query = "query($id: UUID!) { organisations { items { id } } child(id: $id) { id } }"
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": {"id": cid}},
        headers=auth(token_for(app, provider)),
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    rows = await superuser.fetch(
        "SELECT outcome FROM access_log_entries WHERE organisation_id = $1", provider.id
    )
    assert [r["outcome"] for r in rows] == ["denied"]
