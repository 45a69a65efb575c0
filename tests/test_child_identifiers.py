"""National identifiers on child records: refused with the DfE wording, field by field, on
REST and GraphQL alike, and nothing is written when they are."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from tests.child_factories import Area, graphql, involve, make_area, make_child

INVALID = [
    ("upn", "Z801200001001", "UPN invalid (wrong check letter at character 1)"),
    ("upn", "H80120000100", "UPN invalid (not 13 characters)"),
    ("uln", "1234567890", "ULN invalid (wrong check digit)"),
    ("uln", "12345", "ULN invalid (not 10 digits)"),
    ("nhs_number", "9434765918", "NHS number invalid (wrong check digit)"),
]


def child_body(area: Area, **fields: Any) -> dict[str, Any]:
    return {
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "date_of_birth": "2012-03-04",
        "home_la_id": str(area.la.id),
        **fields,
    }


async def written(superuser: asyncpg.Connection) -> tuple[int, int]:
    children = await superuser.fetchval("SELECT count(*) FROM children")
    events = await superuser.fetchval("SELECT count(*) FROM events")
    return children, events


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
async def test_invalid_identifier_gives_the_dfe_message_and_nothing_is_written(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    field: str,
    value: str,
    message: str,
) -> None:
    area = await make_area(app, db)
    before = await written(superuser)

    r = await client.post(
        "/v1/children", json=child_body(area, **{field: value}), headers=area.headers(area.la)
    )

    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"field": field, "message": message}]
    assert await written(superuser) == before == (0, 0)


async def test_valid_identifiers_are_accepted_and_normalised(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    r = await client.post(
        "/v1/children",
        json=child_body(area, upn="h801200001001", uln="1234567899", nhs_number="943 476 5919"),
        headers=area.headers(area.la),
    )
    assert r.status_code == 201, r.text
    child = r.json()
    assert (child["upn"], child["uln"], child["nhs_number"]) == (
        "H801200001001",
        "1234567899",
        "9434765919",
    )


async def test_invalid_former_upn_names_its_position(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    body = child_body(area, former_upns=["B801200005001", "Z801200001001"])
    r = await client.post("/v1/children", json=body, headers=area.headers(area.la))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "former_upns.1", "message": "UPN invalid (wrong check letter at character 1)"}
    ]
    assert await written(superuser) == (0, 0)


async def test_invalid_identifier_in_an_update_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area, upn="H801200001001")
    before = await written(superuser)

    r = await client.patch(
        f"/v1/children/{cid}",
        json={"upn": "Z801200001001", "preferred_name": "Ami"},
        headers=area.headers(area.la),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "upn", "message": "UPN invalid (wrong check letter at character 1)"}
    ]
    assert await written(superuser) == before
    child = await superuser.fetchrow("SELECT upn, preferred_name, version FROM children")
    assert tuple(child) == ("H801200001001", None, 1)


async def test_upn_of_another_child_is_flagged_as_a_possible_duplicate_not_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Two records may hold one UPN for a while (a school's error, or one child recorded
    twice): the hub accepts the change and puts the pair before the home LA to decide."""
    area = await make_area(app, db)
    first = await make_child(client, area, upn="H801200001001")
    other = await make_child(client, area, legal_first_name="Bea", upn="B801200005001")
    r = await client.patch(
        f"/v1/children/{other}", json={"upn": "H801200001001"}, headers=area.headers(area.la)
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/v1/children/{other}/duplicates", headers=area.headers(area.la))
    assert r.status_code == 200, r.text
    assert [d["other_child_id"] for d in r.json()] == [first]


async def test_required_fields_cannot_be_cleared(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    r = await client.patch(
        f"/v1/children/{cid}",
        json={"legal_last_name": None, "has_medical_needs": None},
        headers=area.headers(area.la),
    )
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"legal_last_name", "has_medical_needs"}
    await involve(client, area, cid, area.social_care, basis="looked_after")
    r = await client.patch(
        f"/v1/children/{cid}",
        json={"looked_after": True, "looked_after_la_id": str(area.school.id)},
        headers=area.headers(area.social_care),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "looked_after_la_id"


CREATE = """
mutation($input: ChildCreateInput!) {
  createChild(input: $input) { id upn legalFirstName access { rules } }
}
"""


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
async def test_graphql_create_child_gives_the_same_field_errors(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    field: str,
    value: str,
    message: str,
) -> None:
    area = await make_area(app, db)
    camel = {"upn": "upn", "uln": "uln", "nhs_number": "nhsNumber"}[field]
    graph_input = {
        "legalFirstName": "Amira",
        "legalLastName": "Khan",
        "dateOfBirth": "2012-03-04",
        "homeLaId": str(area.la.id),
        camel: value,
    }

    result = await graphql(client, CREATE, area.headers(area.la), input=graph_input)

    assert result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["errors"] == [{"field": field, "message": message}]
    assert await written(superuser) == (0, 0)


async def test_graphql_create_and_update_child_use_the_rest_rules(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    graph_input = {
        "legalFirstName": "Amira",
        "legalLastName": "Khan",
        "dateOfBirth": "2012-03-04",
        "homeLaId": str(area.la.id),
        "upn": "H801200001001",
        "enrolments": [{"schoolId": str(area.school.id), "status": "C", "startDate": "2023-09-01"}],
    }
    result = await graphql(client, CREATE, area.headers(area.school), input=graph_input)
    assert "errors" not in result, result
    child = result["data"]["createChild"]
    assert child["access"]["rules"] == ["school_on_roll"]

    again = await graphql(client, CREATE, area.headers(area.school), input=graph_input)
    assert "errors" not in again, again  # the same child again is a match, not a new record
    assert again["data"]["createChild"]["id"] == child["id"]

    update = (
        "mutation($id: UUID!, $input: ChildUpdateInput!, $v: Int) "
        "{ updateChild(id: $id, input: $input, ifMatch: $v) { version preferredName } }"
    )
    result = await graphql(
        client,
        update,
        area.headers(area.school),
        id=child["id"],
        input={"preferredName": "Ami"},
        v=1,
    )
    assert result["data"]["updateChild"] == {"version": 2, "preferredName": "Ami"}
    result = await graphql(
        client, update, area.headers(area.school), id=child["id"], input={"preferredName": "A"}, v=1
    )
    assert result["errors"][0]["extensions"]["code"] == "PRECONDITION_FAILED"
    result = await graphql(
        client, update, area.headers(area.school), id=child["id"], input={"hasMedicalNeeds": True}
    )
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "has_medical_needs" in result["errors"][0]["message"]
    result = await graphql(
        client, update, area.headers(area.school), id=child["id"], input={"uln": "1234567890"}
    )
    assert result["errors"][0]["extensions"]["errors"] == [
        {"field": "uln", "message": "ULN invalid (wrong check digit)"}
    ]
    assert await superuser.fetchval("SELECT version FROM children") == 2
