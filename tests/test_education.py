"""Children out of education, end to end over the API: an exclusion posted by the school,
the sixth-day duty breached and flagged to the body that owes it and the home LA (and no
one else), provision starting and the flag clearing, with the child's days-without-
education figure right at each step; hours across concurrent placements; bad input."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.attendance.calendar import Calendar
from aphub.db import Database
from aphub.education.flags import run_flags
from tests.factories import auth, make_org, token_for
from tests.placement_factories import Area, complete_plan, make_area, request_body

ENGLAND = Calendar()  # the test LAs configure no holidays: England's bank holidays only


def school_days_back(n: int) -> date:
    """The school day `n` school days before today (today not counted)."""
    day, seen = date.today(), 0
    while seen < n:
        day -= timedelta(days=1)
        if ENGLAND.is_school_day(day):
            seen += 1
    return day


async def flags_on(db: Database, day: date) -> dict[str, Any]:
    async with db.writing() as unit:
        return await run_flags(unit, as_of=day)


async def status_on(client: httpx.AsyncClient, area: Area, day: date) -> dict[str, Any]:
    r = await client.get(
        f"/v1/children/{area.child.id}/education?as_of={day.isoformat()}",
        headers=area.la_headers,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def feed_types(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get("/v1/events?limit=500", headers=headers)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["type"].startswith("education.")]


async def exclude(client: httpx.AsyncClient, area: Area, **body: Any) -> dict[str, Any]:
    r = await client.post(
        f"/v1/children/{area.child.id}/exclusions", json=body, headers=area.school_headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def place_from(client: httpx.AsyncClient, area: Area, start: date, **plan: Any) -> str:
    body = request_body(area, start_date=start.isoformat(), **{**complete_plan(area), **plan})
    r = await client.post("/v1/placements", json=body, headers=area.la_headers)
    assert r.status_code == 201, r.text
    pid = str(r.json()["id"])
    for action, payload in (("offer", {}), ("start", {"start_date": start.isoformat()})):
        r = await client.post(
            f"/v1/placements/{pid}/{action}", json=payload, headers=area.provider_headers
        )
        assert r.status_code == 200, r.text
    return pid


async def test_a_permanent_exclusion_breached_on_day_six_flags_the_home_la_until_provision(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    first = school_days_back(12)
    day = {n: ENGLAND.nth_school_day(first, n) for n in range(1, 12)}
    excluded = await exclude(
        client, area, kind="permanent", first_day=first.isoformat(), reasons=["PA", "DB"]
    )
    assert excluded["school_id"] == str(area.school.id)

    # day 5: the duty has not begun; nothing is raised, nothing owed
    assert (await flags_on(db, day[5]))["raised"] == {}
    status = await status_on(client, area, day[5])
    assert status["days_without_suitable_education"] == 0
    (run,) = status["duties"]
    assert (run["duty_day"], run["responsible_id"]) == (day[6].isoformat(), str(area.la.id))

    # day 6 without provision: a breach, to the home LA (the body that owes it)
    assert (await flags_on(db, day[6]))["raised"] == {"sixth_day_breach": 1}
    assert (await flags_on(db, day[6]))["raised"] == {}  # raised once, however often run
    status = await status_on(client, area, day[6])
    assert status["days_without_suitable_education"] == 1
    assert status["duties"][0]["met_today"] is False
    (flag,) = status["open_flags"]
    assert (flag["kind"], flag["responsible_id"]) == ("sixth_day_breach", str(area.la.id))
    la_events = await feed_types(client, area.la_headers)
    assert [e["type"] for e in la_events] == ["education.flag_raised"]
    assert la_events[0]["data"]["to"] == [str(area.la.id)]
    # the school sees the child but is not addressed: it hears nothing of the flag
    assert await feed_types(client, area.school_headers) == []
    r = await client.get("/v1/education/flags", headers=area.school_headers)
    assert r.json()["items"] == []
    r = await client.get("/v1/education/flags", headers=area.la_headers)
    assert [f["child_id"] for f in r.json()["items"]] == [str(area.child.id)]

    # full-time provision from day 8: the breach clears that day
    await place_from(client, area, day[8])
    assert (await flags_on(db, day[7]))["cleared"] == {}
    assert (await flags_on(db, day[8]))["cleared"] == {"sixth_day_breach": 1}
    status = await status_on(client, area, day[10])
    assert status["days_without_suitable_education"] == 2  # days 6 and 7
    (span,) = status["history"]
    assert (span["first_day"], span["last_day"]) == (day[6].isoformat(), day[7].isoformat())
    assert status["open_flags"] == []
    assert status["provision"]["full_time"] is True
    types = [e["type"] for e in await feed_types(client, area.la_headers)]
    assert types == ["education.flag_raised", "education.flag_cleared"]


async def test_a_long_suspension_is_the_schools_duty_and_reaches_the_school_and_home_la(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    first = school_days_back(9)
    await exclude(
        client, area, kind="suspension", first_day=first.isoformat(), school_days=8, reasons=["VA"]
    )
    assert (await flags_on(db, ENGLAND.nth_school_day(first, 6)))["raised"] == {
        "sixth_day_breach": 1
    }
    (event,) = await feed_types(client, area.school_headers)
    assert event["data"]["responsible_id"] == str(area.school.id)
    assert sorted(event["data"]["to"]) == sorted([str(area.school.id), str(area.la.id)])
    assert [e["type"] for e in await feed_types(client, area.la_headers)] == [
        "education.flag_raised"
    ]
    assert await feed_types(client, area.provider_headers) == []
    # the suspension is over after its eighth day: the flag clears
    after = ENGLAND.nth_school_day(first, 9)
    assert (await flags_on(db, after))["cleared"] == {"sixth_day_breach": 1}


async def test_two_placements_of_twelve_and_a_half_hours_make_full_time(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db, registration="pru")
    today = date.today()
    part_time = {
        "hours_per_week": 12.5,
        "part_time_justification": "Half days while the managed move is arranged",
        "part_time_parent_agreed_on": (today - timedelta(days=3)).isoformat(),
        "part_time_review_date": (today + timedelta(days=28)).isoformat(),
    }
    await place_from(client, area, today, **part_time)
    # the second needs no justification: with the first the child has 25 hours
    second_provider = await make_org(db, "provider", local_authority_id=area.la.id)
    await superuser.execute(
        "INSERT INTO provider_profiles (organisation_id, registration_status, qa_status) "
        "VALUES ($1, 'pru', 'approved')",
        second_provider.id,
    )
    body = request_body(area, provider_id=str(second_provider.id), **complete_plan(area))
    body["hours_per_week"] = 12.5
    r = await client.post("/v1/placements", json=body, headers=area.la_headers)
    pid = r.json()["id"]
    headers = auth(token_for(app, second_provider))
    assert (await client.post(f"/v1/placements/{pid}/offer", json={}, headers=headers)).is_success
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=headers)
    assert r.status_code == 200, r.text
    status = await status_on(client, area, today)
    # both placements' hours count (the child is on roll too, which alone is full time)
    assert float(status["provision"]["hours_per_week"]) == 25.0
    assert status["provision"]["full_time"] is True


async def test_twelve_and_a_half_hours_alone_cannot_start_without_the_part_time_terms(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    body = request_body(area, **{**complete_plan(area), "hours_per_week": 12.5})
    r = await client.post("/v1/placements", json=body, headers=area.la_headers)
    pid = r.json()["id"]
    await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.provider_headers)
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {
        "part_time_justification",
        "part_time_parent_agreed_on",
        "part_time_review_date",
    }
    # a review further ahead than six weeks is refused too
    today = date.today()
    r = await client.patch(
        f"/v1/placements/{pid}",
        json={
            "part_time_justification": "Phased return after hospital",
            "part_time_parent_agreed_on": today.isoformat(),
            "part_time_review_date": (today + timedelta(days=60)).isoformat(),
        },
        headers=area.la_headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert [e["field"] for e in r.json()["errors"]] == ["part_time_review_date"]


async def test_a_part_time_timetable_past_its_review_is_flagged(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    start = date.today() - timedelta(days=50)
    pid = await place_from(
        client,
        area,
        start,
        hours_per_week=15,
        part_time_justification="Anxiety: building up hours",
        part_time_parent_agreed_on=(start - timedelta(days=2)).isoformat(),
        part_time_review_date=(start + timedelta(days=40)).isoformat(),
        planned_end_date=(start + timedelta(weeks=20)).isoformat(),
    )
    raised = await flags_on(db, date.today())
    assert raised["raised"] == {"part_time_review_overdue": 1}
    r = await client.get(f"/v1/placements/{pid}", headers=area.la_headers)
    assert r.json()["flags"]["part_time_review_overdue"] is True
    (event,) = await feed_types(client, area.la_headers)
    assert event["data"]["kind"] == "part_time_review_overdue"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_day": "2010-01-01"}, "first_day"),  # before the child was born
        ({"first_day": (date.today() + timedelta(days=5)).isoformat()}, "first_day"),
        ({"reasons": ["ZZ"]}, "reasons"),
        ({"reasons": ["OT"]}, "reasons"),  # retired in 2020
        ({"reasons": ["PA", "PA"]}, "reasons"),
        ({"reasons": []}, "reasons"),
        ({"school_days": None}, None),  # a suspension with no days
        ({"school_days": 0}, "school_days"),
        ({"school_days": 2.25}, "school_days"),
        ({"kind": "expelled"}, "kind"),
        ({"first_day": "2026-13-01"}, "first_day"),
    ],
)
async def test_bad_exclusions_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    change: dict[str, Any],
    field: str | None,
) -> None:
    area = await make_area(app, db)
    body = {
        "kind": "suspension",
        "first_day": school_days_back(2).isoformat(),
        "school_days": 3,
        "reasons": ["DB"],
        **change,
    }
    before = await superuser.fetchval("SELECT count(*) FROM events")
    r = await client.post(
        f"/v1/children/{area.child.id}/exclusions", json=body, headers=area.school_headers
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if field:
        assert field in [e["field"].split(".")[0] for e in r.json()["errors"]], r.json()
    assert await superuser.fetchval("SELECT count(*) FROM exclusions") == 0
    assert await superuser.fetchval("SELECT count(*) FROM events") == before


async def test_only_the_school_whose_roll_the_child_is_on_excludes(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    elsewhere = await make_org(db, "school", local_authority_id=area.la.id)
    body = {"kind": "permanent", "first_day": school_days_back(1).isoformat(), "reasons": ["PA"]}
    # another school that cannot see the child: 404, as for any hidden child
    r = await client.post(
        f"/v1/children/{area.child.id}/exclusions",
        json=body,
        headers=auth(token_for(app, elsewhere)),
    )
    assert r.status_code == 404, r.text
    # the LA sees the child but is not a school: it must name one, and may not exclude
    r = await client.post(
        f"/v1/children/{area.child.id}/exclusions",
        json={**body, "school_id": str(area.school.id)},
        headers=area.la_headers,
    )
    assert r.status_code == 403, r.text
    # the school, for a day before the child joined its roll
    r = await client.post(
        f"/v1/children/{area.child.id}/exclusions",
        json={**body, "first_day": "2021-09-06"},
        headers=area.school_headers,
    )
    assert r.status_code == 422, r.text
    assert "not on the roll" in r.json()["detail"]
    assert await superuser.fetchval("SELECT count(*) FROM exclusions") == 0


async def test_a_review_outcome_moves_the_exclusion_on_and_reinstatement_ends_the_duty(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    first = school_days_back(10)
    excluded = await exclude(
        client, area, kind="permanent", first_day=first.isoformat(), reasons=["DB"]
    )
    url = f"/v1/children/{area.child.id}/exclusions/{excluded['id']}/status"
    r = await client.post(
        url,
        json={"status": "reconsideration_directed", "on": first.isoformat()},
        headers=area.school_headers,
    )
    assert r.status_code == 409, r.text  # a panel comes after the board
    on = ENGLAND.nth_school_day(first, 4)
    r = await client.post(
        url, json={"status": "reinstated", "on": on.isoformat()}, headers=area.school_headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reinstated"
    status = await status_on(client, area, date.today())
    assert status["duties"][0]["duty_day"] is None  # three days of exclusion: none owed
    r = await client.get(f"/v1/children/{area.child.id}/exclusions", headers=area.la_headers)
    assert [x["status"] for x in r.json()] == ["reinstated"]


async def test_exclusions_and_education_follow_the_childs_sharing_rules(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Category `education`, under the child's rules: the home LA and the school read
    them; an organisation that cannot see the child gets 404; one that sees the child
    without `education` (a health body's involvement) gets 403."""
    area = await make_area(app, db)
    await exclude(
        client,
        area,
        kind="suspension",
        first_day=school_days_back(3).isoformat(),
        school_days=2,
        reasons=["DM"],
    )
    health = await make_org(db, "health")
    r = await client.post(
        f"/v1/children/{area.child.id}/involvements",
        json={
            "organisation_id": str(health.id),
            "basis": "ehcp",
            "start_date": "2025-01-06",
            "categories": ["identity", "health"],
        },
        headers=area.la_headers,
    )
    assert r.status_code == 201, r.text
    stranger = await make_org(db, "provider")
    for path in ("exclusions", "education"):
        url = f"/v1/children/{area.child.id}/{path}"
        for headers, expected in (
            (area.la_headers, 200),
            (area.school_headers, 200),
            (auth(token_for(app, health)), 403),
            (auth(token_for(app, stranger)), 404),
            (area.provider_headers, 404),  # no placement: the provider never saw the child
        ):
            r = await client.get(url, headers=headers)
            assert r.status_code == expected, (path, r.text)


async def test_the_register_of_children_not_in_school_is_the_home_las_and_csv_matches_json(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db, registration="pru")
    await place_from(client, area, date.today())
    other = await make_area(app, db, la_code="802")  # another LA's resident, not on it
    await place_from(client, other, date.today())
    r = await client.get("/v1/reports/children-not-in-school", headers=area.la_headers)
    assert r.status_code == 200, r.text
    document = r.json()
    (row,) = document["items"]
    assert row["child_id"] == str(area.child.id)
    assert row["eligibility"] == "education_arranged_otherwise_than_at_school"
    (provider,) = row["providers"]
    assert provider["provider_id"] == str(area.provider.id)
    assert provider["arranged_by_id"] == str(area.la.id)
    assert row["home_address"] is None  # not held: for the LA to complete
    assert "436B" in document["legislation"]
    csv_text = (
        await client.get(
            "/v1/reports/children-not-in-school",
            headers={**area.la_headers, "Accept": "text/csv"},
        )
    ).text
    import csv as csv_module

    (csv_row,) = list(csv_module.DictReader(csv_text.splitlines()))
    assert csv_row["child_id"] == row["child_id"]
    assert csv_row["legal_last_name"] == row["legal_last_name"]
    assert csv_row["eligibility"] == row["eligibility"]
    for who in (area.school_headers, area.provider_headers):
        r = await client.get("/v1/reports/children-not-in-school", headers=who)
        assert r.status_code == 403, r.text
    # the read is audited as a read of each child on it
    audited = await superuser.fetchval(
        "SELECT count(*) FROM access_log_entries WHERE child_id = $1 AND surface = 'export'",
        area.child.id,
    )
    assert audited == 2


async def test_graphql_reads_and_records_exclusions_as_rest_does(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    mutation = (
        "mutation($id: UUID!, $input: ExclusionInput!) { recordExclusion(childId: $id, "
        "input: $input) { id kind schoolDays reasons } }"
    )
    first = school_days_back(8)
    variables = {
        "id": str(area.child.id),
        "input": {
            "kind": "suspension",
            "firstDay": first.isoformat(),
            "schoolDays": 7,
            "reasons": ["BU"],
        },
    }
    r = await client.post(
        "/graphql", json={"query": mutation, "variables": variables}, headers=area.school_headers
    )
    recorded = r.json()["data"]["recordExclusion"]
    assert (recorded["kind"], recorded["schoolDays"]) == ("suspension", 7.0)
    bad = {**variables, "input": {**variables["input"], "reasons": ["ZZ"]}}
    r = await client.post(
        "/graphql", json={"query": mutation, "variables": bad}, headers=area.school_headers
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    query = (
        "query($id: UUID!) { child(id: $id) { exclusions { id reasons } education { "
        "daysWithoutSuitableEducation duties { dutyDay responsibleId } } } }"
    )
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": {"id": str(area.child.id)}},
        headers=area.la_headers,
    )
    child = r.json()["data"]["child"]
    rest = await status_on(client, area, date.today())
    assert [x["id"] for x in child["exclusions"]] == [recorded["id"]]
    assert (
        child["education"]["daysWithoutSuitableEducation"]
        == rest["days_without_suitable_education"]
    )
    assert child["education"]["duties"][0]["dutyDay"] == rest["duties"][0]["duty_day"]
    assert child["education"]["duties"][0]["responsibleId"] == str(area.school.id)
    # the school owes the duty, and no provision is in place: flagged to it and the LA
    await flags_on(db, ENGLAND.nth_school_day(first, 6))
    flags = "{ educationFlags { items { kind childId responsibleId } } }"
    for headers in (area.la_headers, area.school_headers):
        r = await client.post("/graphql", json={"query": flags}, headers=headers)
        assert [f["kind"] for f in r.json()["data"]["educationFlags"]["items"]] == [
            "sixth_day_breach"
        ]
    r = await client.post("/graphql", json={"query": flags}, headers=area.provider_headers)
    assert r.json()["data"]["educationFlags"]["items"] == []
