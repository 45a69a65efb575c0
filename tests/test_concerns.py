"""Attendance concerns: each fires exactly once, on the right school day, never for a
weekend or a holiday, however many runs there are, concurrent or repeated.

The patterns (weeks W0..W9 are the ten weeks before this one; W6 is a half-term holiday
the LA configured; every placement is the same child's, home LA = the area's LA):

    P1  from W0: present every school day, but nothing at all returned for Friday W5
        (the day before half term) and Wednesday W8        -> no_return x 2
    P2  from W0: present, but absent_unauthorised with no note on Tuesday W8 am; with a
        note on Thursday W8 am; with no note on Saturday W8 and on Wednesday W6 (the
        holiday), which are not school days               -> unexplained_absence x 1
    P3  from W7: present, but absent (authorised) all Monday and Tuesday of W8: 16 of 20
        sessions in the window ending Friday W8 = 80%     -> below_90 x 1
    P4  from W8: absent (authorised) on 6 of W8's 10 sessions = 40% -> below_50 x 1
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aphub.attendance.concerns import run_concerns
from aphub.db import Database
from tests.attendance_factories import mark, post_marks, started, weekdays
from tests.factories import auth, make_org, token_for
from tests.placement_factories import Area, make_area, new_key

MONDAY = date.today() - timedelta(days=date.today().weekday())
W = [MONDAY - timedelta(weeks=10 - i) for i in range(10)]  # the Mondays W0..W9


def day(week: int, weekday: int) -> date:
    return W[week] + timedelta(days=weekday)


def at(d: date, hour: int, minute: int) -> datetime:
    return datetime.combine(d, time(hour, minute))


HOLIDAY = (day(6, 0), day(6, 6))
MON, TUE, WED, THU, FRI, SAT = range(6)


def school_days(first: date, last: date) -> list[date]:
    return [d for d in weekdays(first, last) if not HOLIDAY[0] <= d <= HOLIDAY[1]]


async def _pattern(client: httpx.AsyncClient, area: Area) -> dict[str, str]:
    r = await client.post(
        "/v1/school-holidays",
        json={
            "from_date": HOLIDAY[0].isoformat(),
            "to_date": HOLIDAY[1].isoformat(),
            "name": "Half term",
        },
        headers={**area.la_headers, **new_key()},
    )
    assert r.status_code == 201, r.text
    last = day(9, MON)
    p = {
        "P1": (await started(client, area, area.la_headers, W[0]))["id"],
        "P2": (await started(client, area, area.la_headers, W[0]))["id"],
        "P3": (await started(client, area, area.la_headers, W[7]))["id"],
        "P4": (await started(client, area, area.la_headers, W[8]))["id"],
    }
    marks: list[dict[str, Any]] = []
    for d in school_days(W[0], last):
        for s in ("am", "pm"):
            if d not in (day(5, FRI), day(8, WED)):
                marks.append(mark(p["P1"], d, s))
            if (d, s) == (day(8, TUE), "am"):
                marks.append(mark(p["P2"], d, s, "absent_unauthorised"))
            elif (d, s) == (day(8, THU), "am"):
                marks.append(mark(p["P2"], d, s, "absent_unauthorised", note="Mum phoned: ill"))
            else:
                marks.append(mark(p["P2"], d, s))
    marks.append(mark(p["P2"], day(8, SAT), "am", "absent_unauthorised"))
    marks.append(mark(p["P2"], day(6, WED), "am", "absent_unauthorised"))
    for d in school_days(W[7], last):
        for s in ("am", "pm"):
            absent = d in (day(8, MON), day(8, TUE))
            marks.append(
                mark(p["P3"], d, s, "absent_authorised" if absent else "present", note="Ill")
            )
    absent_p4 = {
        (day(8, MON), "am"),
        (day(8, MON), "pm"),
        (day(8, TUE), "am"),
        (day(8, WED), "pm"),
        (day(8, THU), "am"),
        (day(8, FRI), "pm"),
    }
    for d in school_days(W[8], last):
        for s in ("am", "pm"):
            absent = (d, s) in absent_p4
            marks.append(
                mark(p["P4"], d, s, "absent_authorised" if absent else "present", note="Ill")
            )
    r = await post_marks(client, area.provider_headers, marks)
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == 0, r.text
    return p


async def _concerns(db: Database) -> list[tuple[str, str, date]]:
    async with db.reading() as unit:
        rows = await unit.fetch(
            "SELECT placement_id::text, kind, day FROM attendance_concerns ORDER BY day, kind"
        )
        return [tuple(r) for r in rows]


async def _concern_events(db: Database) -> list[dict[str, Any]]:
    async with db.reading() as unit:
        rows = await unit.fetch(
            "SELECT child_id, subject_id, data FROM events "
            "WHERE type = 'attendance.concern_raised' ORDER BY seq"
        )
        return [dict(r) for r in rows]


async def _run(db: Database, when: datetime, **kw: Any) -> dict[str, Any]:
    async with db.writing() as uow:
        return await run_concerns(uow, as_of=when, **kw)


async def test_each_concern_fires_once_on_the_right_school_day_never_on_holidays_or_weekends(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    p = await _pattern(client, area)

    # in the holiday: Friday W5's return is not due until 10:00 on Monday W7
    r = await _run(db, at(day(6, MON), 10, 1))
    assert r["raised"] == {"no_return": 0, "unexplained_absence": 0, "below_90": 0, "below_50": 0}
    r = await _run(db, at(day(7, MON), 9, 59))
    assert r["raised"]["no_return"] == 0
    r = await _run(db, at(day(7, MON), 10, 1))
    assert r["raised"]["no_return"] == 1
    # Wednesday W8's return is due at 10:00 on Thursday W8; P2's unexplained absence on
    # Tuesday W8 is raised as soon as a run sees it
    r = await _run(db, at(day(8, THU), 9, 59))
    assert r["raised"] == {"no_return": 0, "unexplained_absence": 1, "below_90": 0, "below_50": 0}
    r = await _run(db, at(day(8, THU), 10, 1))
    assert r["raised"]["no_return"] == 1
    # the six-week window ending Friday W8 closes at 10:00 on Monday W9
    r = await _run(db, at(day(9, MON), 9, 59))
    assert r["raised"]["below_90"] == r["raised"]["below_50"] == 0
    r = await _run(db, at(day(9, TUE), 10, 1))
    assert r["raised"] == {"no_return": 0, "unexplained_absence": 0, "below_90": 1, "below_50": 1}
    again = await _run(db, at(day(9, TUE), 10, 1))
    assert sum(again["raised"].values()) == 0

    expected = sorted(
        [
            (p["P1"], "no_return", day(5, FRI)),
            (p["P1"], "no_return", day(8, WED)),
            (p["P2"], "unexplained_absence", day(8, TUE)),
            (p["P3"], "below_90", day(8, FRI)),
            (p["P4"], "below_50", day(8, FRI)),
        ],
        key=lambda c: (c[2], c[1]),
    )
    assert await _concerns(db) == expected
    events = await _concern_events(db)
    assert len(events) == 5
    assert all(str(e["child_id"]) == str(area.child.id) for e in events)
    below = next(e["data"] for e in events if e["data"]["kind"] == "below_90")
    assert (below["possible"], below["attended"], below["percentage"]) == (20, 16, 80.0)
    assert below["window_from"] == W[7].isoformat()
    assert set(below["notify"]) == {str(area.la.id)}  # commissioner and home LA: the LA
    severe = next(e["data"] for e in events if e["data"]["kind"] == "below_50")
    assert (severe["possible"], severe["attended"]) == (10, 4)

    r = await client.get("/v1/attendance/concerns", headers=area.la_headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 5
    assert {c["kind"] for c in r.json()["items"]} == {
        "no_return",
        "unexplained_absence",
        "below_90",
        "below_50",
    }


async def test_two_job_runners_at_once_raise_no_duplicates(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    await _pattern(client, area)
    when = at(day(9, TUE), 10, 1)

    # without the advisory lock both compute every concern; the unique constraint and
    # ON CONFLICT DO NOTHING let only one insert each, and only inserted rows get events
    first, second = await asyncio.gather(_run(db, when, lock="none"), _run(db, when, lock="none"))
    raised = sum(first["raised"].values()) + sum(second["raised"].values())
    concerns = await _concerns(db)
    assert raised == len(concerns) == len(set(concerns))
    assert len(await _concern_events(db)) == len(concerns)
    assert {k for _, k, _ in concerns} >= {"no_return", "unexplained_absence", "below_90"}

    # with it (the default), a run that finds another in progress skips
    results = await asyncio.gather(_run(db, when), _run(db, when))
    assert sum(sum(r["raised"].values()) for r in results) == 0
    assert len(await _concerns(db)) == len(concerns)


async def test_local_authority_runs_concerns_for_its_area_and_others_may_not(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    start = date.today() - timedelta(days=30)
    await started(client, area, area.la_headers, start)  # nothing returned: no_return
    r = await client.post("/v1/attendance/concerns/run", headers={**area.la_headers, **new_key()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == str(area.la.id)
    assert not body["skipped"]
    assert body["raised"]["no_return"] >= 5
    r = await client.post(
        "/v1/attendance/concerns/run", headers={**area.provider_headers, **new_key()}
    )
    assert r.status_code == 403
    operator = await make_org(db, "operator")
    r = await client.post(
        "/v1/attendance/concerns/run",
        headers={**auth(token_for(app, operator)), **new_key()},
    )
    assert r.status_code == 200
    assert r.json()["scope"] == "hub"
    assert sum(r.json()["raised"].values()) == 0  # already raised: never twice


async def test_school_holidays_are_managed_by_the_local_authority_itself(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    body = {"from_date": "2026-10-26", "to_date": "2026-10-30", "name": "Autumn half term"}
    r = await client.post(
        "/v1/school-holidays", json=body, headers={**area.la_headers, **new_key()}
    )
    assert r.status_code == 201, r.text
    holiday = r.json()
    assert holiday["la_id"] == str(area.la.id)
    r = await client.post(
        "/v1/school-holidays", json=body, headers={**area.provider_headers, **new_key()}
    )
    assert r.status_code == 403  # a provider has no calendar to manage
    r = await client.get(f"/v1/school-holidays?la_id={area.la.id}", headers=area.provider_headers)
    assert [h["name"] for h in r.json()["items"]] == ["Autumn half term"]
    bad = {**body, "to_date": "2026-10-01"}
    r = await client.post("/v1/school-holidays", json=bad, headers={**area.la_headers, **new_key()})
    assert r.status_code == 422
    r = await client.delete(f"/v1/school-holidays/{holiday['id']}", headers=area.school_headers)
    assert r.status_code == 403
    r = await client.delete(f"/v1/school-holidays/{holiday['id']}", headers=area.la_headers)
    assert r.status_code == 204
    r = await client.get("/v1/school-holidays", headers=area.la_headers)
    assert r.json()["items"] == []


async def test_jobs_serve_runs_the_concerns_in_a_process_of_its_own(
    db: Database, superuser_dsn: str, tmp_path: Path
) -> None:
    """`aphub jobs serve`: what a deployment runs beside web workers with APHUB_JOBS=false.
    It runs the concerns at once, then on its interval, until stopped."""
    env = {
        **os.environ,
        "APHUB_DATABASE_URL": superuser_dsn,
        "APHUB_DATA_DIR": str(tmp_path),
        "APHUB_LOG_LEVEL": "INFO",
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "aphub"),
        "jobs",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any('"attendance-concerns"' in line for line in seen):
                line = (await process.stdout.readline()).decode()
                assert line, f"aphub jobs serve stopped: {seen}"
                seen.append(line)
    finally:
        process.terminate()
        await process.wait()
    assert "attendance-concerns every 15 min" in seen[0], seen[0]
    run = next(line for line in seen if '"attendance-concerns"' in line and "job ran" in line)
    assert '"skipped": false' in run or '"skipped":false' in run, run


async def test_concerns_written_a_few_at_a_time_are_the_same_concerns(
    client: httpx.AsyncClient, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At national scale a run raises hundreds of thousands: they are inserted in chunks
    (`INSERT_CHUNK`), which must raise exactly what one statement would."""
    monkeypatch.setattr("aphub.attendance.concerns.INSERT_CHUNK", 1)
    await test_each_concern_fires_once_on_the_right_school_day_never_on_holidays_or_weekends(
        client, app, db
    )
