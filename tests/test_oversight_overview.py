"""The area overview (`GET /v1/oversight/overview`, the figures of the oversight page) over
an area whose answer is known by construction, with a child the LA must not see."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.attendance.calendar import Calendar
from aphub.db import Database
from aphub.models import Child, Enrolment
from tests.attendance_factories import area_in, mark, post_marks, started, weekdays
from tests.factories import auth, token_for
from tests.identity_factories import secret_client, sign_in_with_secret
from tests.placement_factories import Area

TODAY = date.today()
URL = "/v1/oversight/overview"


async def test_the_overview_counts_what_the_la_may_see_and_names_who_needs_action(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    home = await area_in(app, db, "851", registration="unregistered")
    away = await area_in(app, db, "852")  # another LA: its child is not home's to see
    start = TODAY - timedelta(days=21)
    # 1. home's child at home's (unregistered) provider: 50% attendance, review overdue
    first = await started(client, home, home.la_headers, start)
    days = weekdays(start, TODAY - timedelta(days=1))[:10]
    marks = [mark(first["id"], d, s, "present" if s == "am" else "absent_unauthorised")
             for d in days for s in ("am", "pm")]  # fmt: skip
    r = await post_marks(client, home.provider_headers, marks)
    assert r.status_code in (200, 201), r.text
    await superuser.execute(
        "UPDATE placements SET next_review_date = $2 WHERE id = $1",
        first["id"],
        TODAY - timedelta(days=3),
    )
    # 2. a second home child, placed out of area with away's provider (registered)
    second = await _child(db, home)
    out = await started(
        client,
        away,
        home.la_headers,
        start,
        child_id=str(second),
        provider_id=str(away.provider.id),
    )
    # 3. a third home child, requested and not started
    third = await _child(db, home)
    r = await client.post(
        "/v1/placements",
        json={
            "child_id": str(third),
            "provider_id": str(home.provider.id),
            "legal_basis": "s19_education_act_1996",
            "primary_reason": "medical",
            "start_date": TODAY.isoformat(),
            "planned_end_date": (TODAY + timedelta(weeks=6)).isoformat(),
        },
        headers=home.la_headers,
    )
    assert r.status_code == 201, r.text
    # 3b. ... and missing education for ten days (as the daily job raises it)
    await superuser.execute(
        "INSERT INTO education_flags (id, child_id, kind, subject_id, responsible_id, "
        "home_la_id, since, raised_on) VALUES (gen_random_uuid(), $1, 'missing_education', "
        "$1, $2, $2, $3, $4)",
        third,
        home.la.id,
        TODAY - timedelta(days=10),
        TODAY,
    )
    school_days = Calendar().count_school_days(TODAY - timedelta(days=10), TODAY)
    # 4. away's own child at away's provider: hidden from home
    hidden = await started(client, away, away.la_headers, start)

    # a flag naming home about a child home may not see (its relationship ended, say)
    await superuser.execute(
        "INSERT INTO education_flags (id, child_id, kind, subject_id, responsible_id, "
        "home_la_id, since, raised_on) VALUES (gen_random_uuid(), $1, 'missing_education', "
        "$1, $2, $3, $4, $4)",
        hidden["child_id"],
        home.la.id,
        away.la.id,
        TODAY,
    )

    r = await client.get(URL, headers=home.la_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["headline"] == {
        "children_in_ap": 2,
        "active_placements": 2,
        "not_started": 1,
        "unregistered": 1,
        "out_of_area": 1,
        "past_planned_end": 0,
        "review_overdue": 1,
        "part_time": 0,
        "open_flags": 1,
        "without_education": 1,
    }
    this_month = body["children_by_month"][-1]
    assert this_month["month"] == TODAY.strftime("%Y-%m")
    assert this_month["children"] == 2
    assert this_month["by_reason"] == {"permanent_exclusion": 2}
    assert len(body["children_by_month"]) == 12
    assert body["attendance_bands"] == {
        "under_50": 0,
        "50_to_79": 1,
        "80_to_89": 0,
        "90_and_over": 0,
        "no_marks": 1,
    }
    band = "6_to_10" if school_days > 5 else "1_to_5"
    assert body["days_without_education"][band] == 1
    assert sum(body["days_without_education"].values()) == 1
    needing = body["needing_action"]
    assert [(i["kind"], i["child_id"]) for i in needing] == [
        ("missing_education", str(third)),
        ("review_overdue", first["child_id"]),
    ]
    assert needing[0]["school_days"] == school_days
    assert needing[1]["placement_id"] == first["id"]
    assert needing[1]["child_name"] == "Sam Okoro"  # area_in's child
    named = str(body)
    assert hidden["id"] not in named
    assert hidden["child_id"] not in named
    assert out["id"] != hidden["id"]
    # the children named are audited as one list read
    audited = await superuser.fetchval(
        "SELECT count(*) FROM access_log WHERE organisation_id = $1 AND surface = 'oversight' "
        "AND $2 = ANY(child_ids)",
        home.la.id,
        first["child_id"],
    )
    assert audited == 1

    # away sees its own child and the one placed with a provider in its area (host LA)
    r = await client.get(URL, headers=away.la_headers)
    assert r.json()["headline"]["children_in_ap"] == 2


async def test_the_overview_is_for_local_authorities_with_reports_read(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await area_in(app, db, "853")
    r = await client.get(URL, headers=area.school_headers)
    assert r.status_code == 403, r.text  # a school lacks reports:read
    r = await client.get(URL, headers=auth(token_for(app, area.provider, ["reports:read"])))
    assert r.status_code == 403, r.text
    r = await client.get(URL, headers=auth(token_for(app, area.la, ["passports:read"])))
    assert r.status_code == 403, r.text
    r = await client.get(URL + "?since=2026-01-01", headers=area.la_headers)
    assert r.status_code == 400, r.text
    r = await client.get(URL + "?as_of=yesterday", headers=area.la_headers)
    assert r.status_code == 422, r.text


async def _child(db: Database, area: Area) -> uuid.UUID:
    la, school = area.la, area.school
    async with db.writing() as uow:
        child = Child(
            legal_first_name="Sam",
            legal_last_name="Okafor",
            date_of_birth=date(2012, 3, 4),
            home_la_id=la.id,
        )
        uow.session.add(child)
        await uow.session.flush()
        uow.session.add(
            Enrolment(
                child_id=child.id, school_id=school.id, status="C", start_date=date(2022, 9, 1)
            )
        )
        return child.id


async def test_the_page_shows_the_overview_and_a_childs_page_follows_sharing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    home = await area_in(app, db, "854")
    away = await area_in(app, db, "855")
    start = TODAY - timedelta(days=14)
    mine = await started(client, home, home.la_headers, start)
    hidden = await started(client, away, away.la_headers, start)
    assert (await client.get("/oversight")).headers["location"] == "/oversight/sign-in"

    issued = await secret_client(db, home.la)
    assert (await sign_in_with_secret(client, issued)).status_code == 303
    page = await client.get("/oversight")
    assert page.status_code == 200, page.text
    assert '<dd data-figure="children_in_ap">1</dd>' in page.text
    assert f'href="/oversight/children/{mine["child_id"]}"' not in page.text  # no action due
    assert hidden["child_id"] not in page.text
    assert "<script" not in page.text
    assert 'role="img"' in page.text

    child = await client.get(f"/oversight/children/{mine['child_id']}")
    assert child.status_code == 200, child.text
    assert "Sam" in child.text
    assert mine["id"][:8] in child.text  # its placement
    assert "<h1>" in child.text
    refused = await client.get(f"/oversight/children/{hidden['child_id']}")
    assert refused.status_code == 404
    assert "Sam" not in refused.text
    outcomes = await superuser.fetch(
        "SELECT outcome FROM access_log WHERE organisation_id = $1 AND surface = 'oversight' "
        "AND $2 = ANY(child_ids)",
        home.la.id,
        uuid.UUID(hidden["child_id"]),
    )
    assert [r["outcome"] for r in outcomes] == ["denied"]
