"""Child records matched as a master person index matches them (`aphub.children.matching`):
a school's post enrols into the record the hub holds on an exact match; a partial match
creates a record and flags the pair to the home LA without ever naming the other record;
the home LA merges (the merged id answers with the survivor) or marks them distinct.
And a creator sets only the fields its sharing agreement lets it change."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.child_factories import Area, make_area, make_child
from tests.factories import make_org


def enrolment_body(area: Area, school_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "date_of_birth": "2012-03-04",
        "home_la_id": str(area.la.id),
        "upn": "H801200001001",
        "enrolments": [{"school_id": school_id, "status": "C", "start_date": "2024-09-01"}],
        **fields,
    }


async def test_an_exact_match_enrols_into_the_record_the_hub_holds(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    held = await make_child(client, area, upn="H801200001001")
    newcomer = await make_org(db, "school", local_authority_id=area.la.id)
    r = await client.post(
        "/v1/children",
        json=enrolment_body(area, str(newcomer.id), legal_last_name="KHAN"),
        headers=area.headers(newcomer),
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == held
    assert r.headers["Content-Location"] == f"/v1/children/{held}"
    assert "school_on_roll" in r.json()["access"]["rules"]
    assert await superuser.fetchval("SELECT count(*) FROM children") == 1
    enrolled = await superuser.fetchval(
        "SELECT count(*) FROM enrolments WHERE child_id = $1 AND school_id = $2",
        held,
        newcomer.id,
    )
    assert enrolled == 1
    # the home LA hears of it; a repeated post adds nothing
    types = [r["type"] for r in await superuser.fetch("SELECT type FROM events ORDER BY seq")]
    assert types[-1] == "child.enrolment_recorded"
    again = await client.post(
        "/v1/children", json=enrolment_body(area, str(newcomer.id)), headers=area.headers(newcomer)
    )
    assert again.status_code == 200
    assert (
        await superuser.fetchval("SELECT count(*) FROM enrolments WHERE child_id = $1", held) == 2
    )


async def test_a_partial_match_is_answered_as_a_new_child_and_flagged_to_the_home_la(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """The school learns nothing of the record it cannot see: the answer to a UPN the hub
    holds with another date of birth is the answer to a UPN it has never seen."""
    area = await make_area(app, db)
    held = await make_child(client, area, upn="H801200001001")
    newcomer = await make_org(db, "school", local_authority_id=area.la.id)
    partial = await client.post(
        "/v1/children",
        json=enrolment_body(area, str(newcomer.id), date_of_birth="2012-03-05"),
        headers=area.headers(newcomer),
    )
    unknown = await client.post(
        "/v1/children",
        json=enrolment_body(area, str(newcomer.id), upn="B801200005001", legal_first_name="Bea"),
        headers=area.headers(newcomer),
    )
    assert partial.status_code == unknown.status_code == 201, partial.text
    assert partial.json()["id"] != held
    assert held not in partial.text
    assert sorted(partial.json()) == sorted(unknown.json())  # the same shape of answer
    # the home LA sees the flag and both records; the school sees no flag
    flags = await client.get(f"/v1/children/{held}/duplicates", headers=area.headers(area.la))
    assert [f["other_child_id"] for f in flags.json()] == [partial.json()["id"]]
    assert set(flags.json()[0]["reasons"]) >= {"upn", "surname", "first_name"}
    refused = await client.get(
        f"/v1/children/{partial.json()['id']}/duplicates", headers=area.headers(newcomer)
    )
    assert refused.status_code == 403
    flagged = await superuser.fetch(
        "SELECT child_id FROM events WHERE type = 'child.possible_duplicate' ORDER BY child_id"
    )
    assert {str(r["child_id"]) for r in flagged} == {held, partial.json()["id"]}


async def test_the_home_la_merges_a_duplicate_and_the_merged_id_answers_with_the_survivor(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    held = await make_child(client, area, upn="H801200001001")
    newcomer = await make_org(db, "school", local_authority_id=area.la.id)
    duplicate = (
        await client.post(
            "/v1/children",
            json=enrolment_body(area, str(newcomer.id), date_of_birth="2012-03-05"),
            headers=area.headers(newcomer),
        )
    ).json()["id"]
    r = await client.post(
        f"/v1/children/{held}/merge",
        json={"other_child_id": duplicate},
        headers=area.headers(area.la),
    )
    assert r.status_code == 200, r.text
    # the newcomer's roll entry moved: it sees the survivor, through either id
    for asked in (held, duplicate):
        r = await client.get(f"/v1/children/{asked}", headers=area.headers(newcomer))
        assert r.status_code == 200, r.text
        assert r.json()["id"] == held
    listed = await client.get("/v1/children", headers=area.headers(area.la))
    assert [c["id"] for c in listed.json()["items"]] == [held]
    assert (
        str(
            await superuser.fetchval("SELECT merged_into_id FROM children WHERE id = $1", duplicate)
        )
        == held
    )
    again = await client.post(
        f"/v1/children/{held}/merge",
        json={"other_child_id": duplicate},
        headers=area.headers(area.la),
    )
    assert again.status_code == 409


async def test_the_home_la_marks_a_possible_duplicate_distinct(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    held = await make_child(client, area, upn="H801200001001")
    other = await make_child(
        client, area, upn="H801200001001", date_of_birth="2011-01-01", legal_first_name="Ada"
    )
    r = await client.post(
        f"/v1/children/{other}/distinct",
        json={"other_child_id": held},
        headers=area.headers(area.la),
    )
    assert r.status_code == 204, r.text
    flags = await client.get(f"/v1/children/{held}/duplicates", headers=area.headers(area.la))
    assert flags.json() == []


async def test_a_creator_sets_only_the_fields_its_agreement_lets_it_change(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    school = enrolment_body(
        area,
        str(area.school.id),
        looked_after=True,
        child_protection_plan=True,
        child_in_need=True,
    )
    r = await client.post("/v1/children", json=school, headers=area.headers(area.school))
    assert r.status_code == 403, r.text
    for field in ("looked_after", "child_protection_plan", "child_in_need"):
        assert field in r.json()["detail"]
    la = enrolment_body(area, str(area.school.id), has_medical_needs=True, looked_after=True)
    r = await client.post("/v1/children", json=la, headers=area.headers(area.la))
    assert r.status_code == 403, r.text
    assert "has_medical_needs" in r.json()["detail"]
    assert "looked_after" in r.json()["detail"]
    assert await superuser.fetchval("SELECT count(*) FROM children") == 0
    # the same fields at their defaults are nothing to refuse
    ok = enrolment_body(area, str(area.school.id), looked_after=False)
    r = await client.post("/v1/children", json=ok, headers=area.headers(area.school))
    assert r.status_code == 201, r.text
