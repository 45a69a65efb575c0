"""Passport sections: edits checked field by field, versioned with who and when, history
redacted to what the reader may see, the same rules over GraphQL."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.events.verify import verify_chain
from tests.child_factories import graphql, involve, make_area, make_child, place

ABOUT_ME = {"summary": "Loves football", "what_works_for_me": "Short tasks"}


async def test_section_edits_are_versioned_with_who_and_when(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/passport/about_me"

    r = await client.patch(url, json=ABOUT_ME, headers=area.headers(area.la))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    section = r.json()["passport"]["about_me"]
    assert section["version"] == 1
    assert section["summary"] == "Loves football"

    r = await client.patch(
        url,
        json={"summary": "Loves football and drawing", "communication": "Visual timetable"},
        headers={**area.headers(area.school), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    section = r.json()["passport"]["about_me"]
    assert section["version"] == 2
    assert section["what_works_for_me"] == "Short tasks"  # kept: not in the PATCH

    r = await client.get(f"{url}/history", headers=area.headers(area.la))
    assert r.status_code == 200, r.text
    newest, oldest = r.json()["items"]
    assert [newest["version"], oldest["version"]] == [2, 1]
    assert newest["changed_by"]["organisation_id"] == str(area.school.id)
    assert newest["changed_by"]["organisation_name"] == area.school.name
    assert newest["changed_by"]["client_id"] == f"test-{area.school.id.hex}"
    assert newest["changed_fields"] == ["communication", "summary"]
    assert newest["content"]["summary"] == "Loves football and drawing"
    assert oldest["changed_by"]["organisation_id"] == str(area.la.id)
    assert oldest["changed_fields"] == ["summary", "what_works_for_me"]
    assert oldest["content"] == {
        **ABOUT_ME,
        "what_does_not_work": None,
        "communication": None,
        "interests": None,
    }
    assert oldest["changed_at"] <= newest["changed_at"]

    rows = await superuser.fetch(
        "SELECT data, subject_version FROM events WHERE type = 'passport.section_updated' "
        "ORDER BY seq"
    )
    assert [r["subject_version"] for r in rows] == [1, 2]
    assert '"section": "about_me"' in rows[1]["data"]
    assert (await verify_chain(db)).ok


async def test_history_pages_newest_first(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    for n in range(3):
        r = await client.patch(
            f"/v1/children/{cid}/passport/child_voice",
            json={"views": f"view {n}"},
            headers=area.headers(area.la),
        )
        assert r.status_code == 200, r.text
    url = f"/v1/children/{cid}/passport/child_voice/history"
    first = (await client.get(f"{url}?limit=2", headers=area.headers(area.la))).json()
    assert [v["version"] for v in first["items"]] == [3, 2]
    second = await client.get(
        f"{url}?limit=2&cursor={first['next_cursor']}", headers=area.headers(area.la)
    )
    assert [v["version"] for v in second.json()["items"]] == [1]
    assert second.json()["next_cursor"] is None


async def test_null_clears_a_field_and_a_repeated_patch_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/passport/about_me"
    headers = area.headers(area.la)
    assert (await client.patch(url, json=ABOUT_ME, headers=headers)).status_code == 200

    r = await client.patch(url, json=ABOUT_ME, headers=headers)  # a retry: same values
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'

    r = await client.patch(url, json={"summary": None}, headers=headers)
    assert r.status_code == 200, r.text
    section = r.json()["passport"]["about_me"]
    assert section["version"] == 2
    assert section["summary"] is None
    assert section["what_works_for_me"] == "Short tasks"
    assert await superuser.fetchval("SELECT count(*) FROM passport_section_versions") == 2
    stored = await superuser.fetchval(
        "SELECT content FROM passport_sections WHERE section = 'about_me'"
    )
    assert "summary" not in stored


async def test_provider_may_read_but_not_write_medical_needs_and_403_names_the_field(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    await place(db, cid, commissioner=area.school, provider=area.provider)
    await involve(client, area, cid, area.health, basis="ehcp")
    r = await client.patch(
        f"/v1/children/{cid}/passport/health",
        json={"medical_needs": "Epipen in bag", "diagnoses": [{"name": "Asthma"}]},
        headers=area.headers(area.health),
    )
    assert r.status_code == 200, r.text
    before = await superuser.fetchval("SELECT count(*) FROM passport_section_versions")

    r = await client.patch(
        f"/v1/children/{cid}/passport/health",
        json={"medical_needs": "None"},
        headers=area.headers(area.provider),
    )

    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "health.medical_needs" in r.json()["detail"]
    assert await superuser.fetchval("SELECT count(*) FROM passport_section_versions") == before
    seen = (await client.get(f"/v1/children/{cid}", headers=area.headers(area.provider))).json()
    assert seen["passport"]["health"]["medical_needs"] == "Epipen in bag"
    assert "diagnoses" not in seen["passport"]["health"]
    # what its agreement lets it write, it writes
    r = await client.patch(
        f"/v1/children/{cid}/passport/needs_and_strategies",
        json={"strategies": ["Movement breaks", "Check-in at 10:00"]},
        headers=area.headers(area.provider),
    )
    assert r.status_code == 200, r.text


async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/passport/family_voice"
    headers = area.headers(area.la)
    assert (await client.patch(url, json={"views": "a"}, headers=headers)).status_code == 200
    assert (await client.patch(url, json={"views": "b"}, headers=headers)).status_code == 200

    r = await client.patch(url, json={"views": "c"}, headers={**headers, "If-Match": '"1"'})

    assert r.status_code == 412, r.text
    assert r.json()["type"] == "/problems/precondition-failed"
    assert await superuser.fetchval("SELECT version FROM passport_sections") == 2
    r = await client.patch(url, json={"views": "c"}, headers={**headers, "If-Match": '"2"'})
    assert r.status_code == 200, r.text


async def test_first_edit_expects_version_0(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/passport/post16_intentions"
    headers = area.headers(area.la)
    r = await client.patch(url, json={"intentions": "x"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 412, r.text
    r = await client.patch(url, json={"intentions": "x"}, headers={**headers, "If-Match": '"0"'})
    assert r.status_code == 200, r.text


async def test_unknown_section_is_a_404_problem(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    headers = area.headers(area.la)
    for r in (
        await client.patch(f"/v1/children/{cid}/passport/hobbies", json={}, headers=headers),
        await client.get(f"/v1/children/{cid}/passport/hobbies/history", headers=headers),
    ):
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json"


async def test_hidden_child_is_404_for_section_edits_and_history(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    headers = area.headers(area.stranger)
    r = await client.patch(f"/v1/children/{cid}/passport/about_me", json=ABOUT_ME, headers=headers)
    assert r.status_code == 404, r.text
    r = await client.get(f"/v1/children/{cid}/passport/about_me/history", headers=headers)
    assert r.status_code == 404, r.text


async def test_history_shows_only_readable_fields_and_versions(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    await place(db, cid, commissioner=area.school, provider=area.provider)
    await involve(client, area, cid, area.health, basis="ehcp")
    url = f"/v1/children/{cid}/passport/health"
    health = area.headers(area.health)
    for body in (
        {"medical_needs": "Epipen", "health_summary": "Asthma, well controlled"},
        {"health_summary": "Asthma, reviewed"},  # nothing a provider may read
        {"medical_needs": "Epipen and inhaler"},
    ):
        assert (await client.patch(url, json=body, headers=health)).status_code == 200

    r = await client.get(f"{url}/history", headers=area.headers(area.provider))

    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [v["version"] for v in items] == [3, 1]
    assert items[0]["content"] == {"medical_needs": "Epipen and inhaler"}
    assert items[1]["changed_fields"] == ["medical_needs"]
    assert len((await client.get(f"{url}/history", headers=health)).json()["items"]) == 3
    # a school reads only the has_medical_needs flag: no field of the section at all
    r = await client.get(f"{url}/history", headers=area.headers(area.school))
    assert r.status_code == 404, r.text


async def test_section_content_is_validated_field_by_field(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/passport/education_history"
    headers = area.headers(area.la)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"suspensions": [{"start_date": "2025-01-06", "school_days": 46, "reason_code": "PD"}]},
            "suspensions.0.school_days",
        ),
        (
            {"exclusions": [{"date": "2025-02-03", "reason_code": "XX"}]},
            "exclusions.0.reason_code",
        ),
        (
            {
                "settings": [
                    {"name": "Oak Academy", "start_date": "2024-09-01", "end_date": "2024-07-01"}
                ]
            },
            "settings.0.end_date",
        ),
        (
            {"settings": [{"name": "Oak", "start_date": "2024-09-01", "urn": "12"}]},
            "settings.0.urn",
        ),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({}, "body"),
    ]
    for body, field in cases:
        r = await client.patch(url, json=body, headers=headers)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.text)
    r = await client.patch(
        f"/v1/children/{cid}/passport/about_me", json={"summary": "x" * 10_001}, headers=headers
    )
    assert r.status_code == 422, r.text
    assert await superuser.fetchval("SELECT count(*) FROM passport_section_versions") == 0

    valid = {
        "settings": [
            {
                "name": "Oak Academy",
                "urn": "100000",
                "start_date": "2019-09-01",
                "end_date": "2025-02-03",
                "reason_left": "Permanently excluded",
            }
        ],
        "suspensions": [{"start_date": "2024-11-04", "school_days": 5, "reason_code": "VA"}],
        "exclusions": [{"date": "2025-02-03", "reason_code": "PD"}],
        "attainment_baselines": {
            "english": {"level": "Entry 3", "assessed_on": "2025-03-01"},
            "maths": {"level": "GCSE 3", "assessed_on": "2025-03-01"},
        },
    }
    r = await client.patch(url, json=valid, headers=headers)
    assert r.status_code == 200, r.text
    stored = r.json()["passport"]["education_history"]
    assert stored["exclusions"] == [
        {"date": "2025-02-03", "reason_code": "PD", "type": "permanent"}
    ]


async def test_contacts_section_holds_parents_and_professionals(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    url = f"/v1/children/{cid}/passport/contacts"
    body = {
        "parents_carers": [
            {
                "name": "Sara Khan",
                "relationship": "mother",
                "parental_responsibility": True,
                "phone": "01632 960001",
                "email": "sara@example.org",
                "address": "1 High Street",
            }
        ],
        "professionals": [{"name": "Dr Lee", "role": "GP", "organisation": "Oak Surgery"}],
    }
    r = await client.patch(url, json=body, headers=area.headers(area.school))
    assert r.status_code == 200, r.text
    assert r.json()["passport"]["contacts"]["parents_carers"][0]["parental_responsibility"]
    bad = {"parents_carers": [{**body["parents_carers"][0], "email": "not an email"}]}
    r = await client.patch(url, json=bad, headers=area.headers(area.school))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "parents_carers.0.email"


UPDATE_SECTION = """
mutation($id: UUID!, $section: String!, $changes: JSON!, $ifMatch: Int) {
  updatePassportSection(childId: $id, section: $section, changes: $changes, ifMatch: $ifMatch) {
    id passport { section version content }
  }
}
"""


async def test_graphql_section_edits_follow_the_same_rules(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    await place(db, cid, commissioner=area.school, provider=area.provider)
    la, provider = area.headers(area.la), area.headers(area.provider)

    result = await graphql(client, UPDATE_SECTION, la, id=cid, section="about_me", changes=ABOUT_ME)
    assert "errors" not in result, result
    sections = {s["section"]: s for s in result["data"]["updatePassportSection"]["passport"]}
    assert sections["about_me"]["version"] == 1
    assert sections["about_me"]["content"]["summary"] == "Loves football"

    result = await graphql(
        client, UPDATE_SECTION, provider, id=cid, section="health", changes={"medical_needs": "x"}
    )
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "health.medical_needs" in result["errors"][0]["message"]

    result = await graphql(
        client,
        UPDATE_SECTION,
        la,
        id=cid,
        section="education_history",
        changes={
            "suspensions": [{"start_date": "2025-01-06", "school_days": 0, "reason_code": "PD"}]
        },
    )
    error = result["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["errors"][0]["field"] == "suspensions.0.school_days"

    result = await graphql(
        client, UPDATE_SECTION, la, id=cid, section="about_me", changes={"summary": "y"}, ifMatch=7
    )
    assert result["errors"][0]["extensions"]["code"] == "PRECONDITION_FAILED"

    result = await graphql(client, UPDATE_SECTION, la, id=cid, section="hobbies", changes={})
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_graphql_passport_history_is_redacted_like_rest(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    r = await client.patch(
        f"/v1/children/{cid}/passport/about_me", json=ABOUT_ME, headers=area.headers(area.la)
    )
    assert r.status_code == 200, r.text
    query = (
        'query($id: UUID!) { passportHistory(childId: $id, section: "about_me") '
        "{ items { version changedFields changedBy { organisationName } content } nextCursor } }"
    )
    result = await graphql(client, query, area.headers(area.school), id=cid)
    assert "errors" not in result, result
    (version,) = result["data"]["passportHistory"]["items"]
    assert version["changedBy"]["organisationName"] == area.la.name
    assert version["content"]["summary"] == "Loves football"
