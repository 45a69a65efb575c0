"""Attendance returns: bulk CSV and JSON, per-row errors, the valid rows written all
together, replacement as an event, and the home school's DfE codes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.events.verify import verify_chain
from tests.attendance_factories import (
    area_in,
    as_csv,
    mark,
    post_csv,
    post_marks,
    started,
    three_arrangements,
    weekdays,
)
from tests.placement_factories import make_area, requested

TODAY = date.today()


async def _events(db: Database, type_: str) -> list[dict[str, Any]]:
    async with db.reading() as unit:
        rows = await unit.fetch(
            "SELECT type, subject_type, subject_id, child_id, data FROM events "
            "WHERE type = :type ORDER BY seq",
            type=type_,
        )
        return [dict(r) for r in rows]


async def _marks_in_db(db: Database) -> int:
    async with db.reading() as unit:
        return int(await unit.fetchval("SELECT count(*) FROM attendance_marks"))


async def test_csv_of_10000_marks_with_12_bad_rows_writes_every_valid_row_and_reports_each_bad_one(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    other = await area_in(app, db, "802")
    start = TODAY - timedelta(days=2500)
    arr = await three_arrangements(client, area, start)
    foreign = await started(client, other, other.la_headers, start)
    not_started = await requested(client, area)
    ids = [arr.la_arranged["id"], arr.school_arranged["id"], arr.dual_registered["id"]]

    days = weekdays(start, TODAY)
    pattern = ["present", "late", "absent_authorised", "absent_unauthorised", "not_required"]
    rows: list[Any] = []
    n = 0
    while len(rows) < 9988:
        day = days[n // 6]
        pid = ids[(n // 2) % 3]
        session = ("am", "pm")[n % 2]
        kind = pattern[(n // 6) % 5]
        rows.append(mark(pid, day, session, kind, minutes_late=10 if kind == "late" else None))
        n += 1
    good_count = len(rows)
    later = days[-1]
    bad: list[tuple[int, Any, str, str]] = []  # (position, row, field, message fragment)

    def add_bad(row: Any, field: str, fragment: str) -> None:
        bad.append((0, row, field, fragment))

    add_bad(mark(ids[0], TODAY + timedelta(days=1)), "date", "in the future")
    add_bad(mark(ids[1], start - timedelta(days=3)), "date", "before the placement started")
    add_bad(mark(foreign["id"], later), "placement_id", "not one of your placements")
    add_bad(mark(str(uuid.uuid4()), later), "placement_id", "not one of your placements")
    add_bad(mark(not_started["id"], later), "placement_id", "has not started")
    add_bad(mark(ids[0], later, session="noon"), "session", "am or pm")
    add_bad(mark(ids[0], later, mark="here"), "mark", "mark must be one of")
    add_bad(mark(ids[0], later, minutes_late=5), "minutes_late", "only for a late mark")
    add_bad(mark(ids[0], later, mark="late", minutes_late=301), "minutes_late", "0 to 300")
    add_bad(mark(ids[0], "2026-13-01"), "date", "like 2026-09-01")
    add_bad(rows[0], "session", "the same session as row 1")  # a duplicate
    add_bad([ids[0], later.isoformat(), "am"], "row", "expected 6 cells, found 3")

    # spread the bad rows through the return
    all_rows: list[Any] = list(rows)
    positions = []
    for i, (_, row, field, fragment) in enumerate(bad):
        at = 500 + i * 800
        all_rows.insert(at, row)
        positions.append((at + 1, row, field, fragment))
    assert len(all_rows) == 10_000

    r = await post_csv(client, area.provider_headers, as_csv(all_rows))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["received"] == 10_000
    assert report["rejected"] == 12
    assert report["accepted"] == good_count == report["inserted"] == 9988
    assert report["replaced"] == 0
    assert report["unchanged"] == 0
    assert {p["placement_id"] for p in report["placements"]} == set(ids)
    assert sum(p["marks"] for p in report["placements"]) == 9988
    errors = {e["row"]: e for e in report["errors"]}
    assert sorted(errors) == [p[0] for p in positions]
    for row_number, row, field, fragment in positions:
        error = errors[row_number]
        assert fragment in error["message"], (row_number, error)
        assert field in {e["field"] for e in error["errors"]}, (row_number, error)
        if isinstance(row, dict):
            assert error["placement_id"] == row["placement_id"]
            assert error["date"] == row["date"]
            assert error["session"] == row["session"]
    # the documented rule: every valid row written, none of the bad ones
    assert await _marks_in_db(db) == 9988

    # the home school's codes by arrangement: K (LA), B (school), D (dual registered)
    expected = {
        "present": None,
        "late": None,
        "absent_authorised": "C",
        "absent_unauthorised": "O",
        "not_required": "X",
    }
    for pid, attended in zip(ids, ("K", "B", "D"), strict=True):
        r = await client.get(f"/v1/placements/{pid}/attendance?limit=20", headers=area.la_headers)
        assert r.status_code == 200, r.text
        marks = r.json()["items"]
        assert len(marks) == 20
        seen = set()
        for m in marks:
            want = expected[m["mark"]] or attended
            assert m["code"] == want, m
            seen.add(m["mark"])
        assert seen == set(expected)

    returned = await _events(db, "attendance.returned")
    assert len(returned) == 1
    assert returned[0]["data"]["accepted"] == 9988
    assert returned[0]["subject_type"] == "attendance_return"
    assert (await verify_chain(db)).ok


async def test_reposting_a_session_replaces_it_and_records_the_change_with_the_child(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    start = TODAY - timedelta(days=20)
    placement = await started(client, area, area.la_headers, start)
    pid = placement["id"]
    day = weekdays(start, TODAY)[0]
    r = await post_marks(
        client,
        area.provider_headers,
        [mark(pid, day, "am", "absent_unauthorised"), mark(pid, day, "pm", "present")],
    )
    assert r.json()["inserted"] == 2, r.text

    r = await post_marks(
        client,
        area.provider_headers,
        [
            mark(pid, day, "am", "absent_authorised", note="Dentist, letter seen"),
            mark(pid, day, "pm", "present"),  # the same again: unchanged
        ],
    )
    report = r.json()
    assert (report["inserted"], report["replaced"], report["unchanged"]) == (0, 1, 1), report

    changed = await _events(db, "attendance.mark_changed")
    assert len(changed) == 1
    event = changed[0]
    assert str(event["child_id"]) == str(area.child.id)
    assert event["data"]["from"]["mark"] == "absent_unauthorised"
    assert event["data"]["from"]["code"] == "O"
    assert event["data"]["to"] == {
        "mark": "absent_authorised",
        "code": "C",
        "minutes_late": None,
        "note": "Dentist, letter seen",
    }
    assert event["data"]["placement_id"] == pid
    returned = await _events(db, "attendance.returned")
    assert [e["data"]["replaced"] for e in returned] == [0, 1]
    assert returned[1]["data"]["placements"] == [
        {
            "placement_id": pid,
            "child_id": str(area.child.id),
            "marks": 2,
            "inserted": 0,
            "replaced": 1,
        }
    ]

    r = await client.get(f"/v1/placements/{pid}/attendance", headers=area.provider_headers)
    am = next(m for m in r.json()["items"] if m["session"] == "am")
    assert (am["mark"], am["code"], am["note"]) == (
        "absent_authorised",
        "C",
        "Dentist, letter seen",
    )


async def test_json_return_of_10000_marks_is_accepted_past_the_usual_body_limit(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    start = TODAY - timedelta(days=7300)
    pid = (await started(client, area, area.la_headers, start))["id"]
    days = weekdays(start, TODAY)
    marks = [
        mark(pid, d, s, note="Attended the workshop session")
        for d in days[:5000]
        for s in ("am", "pm")
    ]
    r = await post_marks(client, area.provider_headers, marks)
    assert len(r.request.content) > 1024 * 1024
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 10_000

    r = await post_marks(client, area.provider_headers, [*marks, marks[0]])
    assert r.status_code == 422
    assert "at most 10,000" in r.json()["detail"]


async def test_provider_returns_only_for_its_own_placements_and_others_cannot_return(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    other = await area_in(app, db, "802")
    start = TODAY - timedelta(days=10)
    pid = (await started(client, area, area.la_headers, start))["id"]
    r = await post_marks(client, other.provider_headers, [mark(pid, TODAY)])
    assert r.status_code == 200
    assert r.json()["errors"][0]["message"] == "not one of your placements"
    assert r.json()["return_id"] is None
    r = await post_marks(client, area.la_headers, [mark(pid, TODAY)])
    assert r.status_code == 403
    # the other provider cannot read the placement's marks either
    r = await client.get(f"/v1/placements/{pid}/attendance", headers=other.provider_headers)
    assert r.status_code == 404


async def test_malformed_returns_are_422_problems_not_row_reports(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    headers = area.provider_headers
    for body, content_type in [
        (b"not json", "application/json"),
        (b'{"marks": []}', "application/json"),
        (b'{"marks": {}}', "application/json"),
        (b"[]", "application/json"),
        (b"placement_id,when\nx,y\n", "text/csv"),
        (b"placement_id,date,session,mark\n", "text/csv"),
        (b"\xff\xfe", "text/csv"),
        (b"placement_id,date,session,mark\nx\x00,y,z,w\n", "text/csv"),
    ]:
        r = await client.post(
            "/v1/attendance", content=body, headers={**headers, "Content-Type": content_type}
        )
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_a_placement_id_is_one_placement_however_it_is_spelt(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    start = TODAY - timedelta(days=20)
    pid = (await started(client, area, area.la_headers, start))["id"]
    days = weekdays(start, TODAY)
    r = await post_marks(
        client,
        area.provider_headers,
        [
            mark(pid.upper(), days[0]),
            mark("{" + pid + "}", days[0], "pm"),
            mark(f"urn:uuid:{pid}", days[1], "am", "late", minutes_late=5, note=" Bus late "),
        ],
    )
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (3, 0), report
    assert report["placements"] == [
        {
            "placement_id": pid,
            "child_id": str(area.child.id),
            "marks": 3,
            "inserted": 3,
            "replaced": 0,
        }
    ]
    r = await client.get(f"/v1/placements/{pid}/attendance", headers=area.provider_headers)
    held = {(m["date"], m["session"]): m for m in r.json()["items"]}
    assert len(held) == 3
    late = held[(days[1].isoformat(), "am")]
    assert (late["mark"], late["minutes_late"], late["note"]) == ("late", 5, "Bus late")

    # the same session under two spellings is one session sent twice
    r = await post_marks(
        client, area.provider_headers, [mark(pid.upper(), days[2]), mark(pid, days[2])]
    )
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (1, 1), report
    assert report["errors"][0]["row"] == 2
    assert "the same session as row 1" in report["errors"][0]["message"]


async def test_rows_before_a_placement_started_are_refused_and_the_others_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    early = (await started(client, area, area.la_headers, TODAY - timedelta(days=30)))["id"]
    late_start = TODAY - timedelta(days=5)
    late = (await started(client, area, area.school_headers, late_start))["id"]
    days = weekdays(TODAY - timedelta(days=14), TODAY - timedelta(days=1))
    marks = [mark(pid, day, s) for day in days for pid in (early, late) for s in ("am", "pm")]
    r = await post_marks(client, area.provider_headers, marks)
    report = r.json()
    refused = [
        i + 1
        for i, m in enumerate(marks)
        if m["placement_id"] == late and m["date"] < late_start.isoformat()
    ]
    assert refused
    assert [e["row"] for e in report["errors"]] == refused
    assert all("before the placement started" in e["message"] for e in report["errors"])
    assert report["inserted"] == len(marks) - len(refused) == await _marks_in_db(db)
    assert {p["placement_id"]: p["marks"] for p in report["placements"]} == {
        early: 2 * len(days),
        late: 2 * len(days) - len(refused),
    }


async def test_a_return_of_new_changed_and_unchanged_sessions_writes_only_what_is_new(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    start = TODAY - timedelta(days=20)
    first = (await started(client, area, area.la_headers, start))["id"]
    second = (await started(client, area, area.school_headers, start))["id"]
    days = weekdays(start, TODAY)[:3]
    before = [mark(first, day, s) for day in days[:2] for s in ("am", "pm")]
    r = await post_marks(client, area.provider_headers, before)
    assert r.json()["inserted"] == 4, r.text

    again = [
        mark(first, days[0], "am", "absent_authorised", note="Dentist"),  # changed
        *before[1:],  # the same again
        mark(first, days[2], "am"),  # new
        mark(first, days[2], "pm"),
        *(mark(second, day, s) for day in days for s in ("am", "pm")),  # new
    ]
    r = await post_marks(client, area.provider_headers, again)
    report = r.json()
    assert (report["accepted"], report["inserted"], report["replaced"], report["unchanged"]) == (
        12,
        8,
        1,
        3,
    ), report
    assert {
        p["placement_id"]: (p["marks"], p["inserted"], p["replaced"]) for p in report["placements"]
    } == {
        first: (6, 2, 1),
        second: (6, 6, 0),
    }
    assert await _marks_in_db(db) == 12
    changed = await _events(db, "attendance.mark_changed")
    assert [(e["data"]["from"]["mark"], e["data"]["to"]["mark"]) for e in changed] == [
        ("present", "absent_authorised")
    ]


async def test_a_list_or_an_object_as_a_value_is_reported_for_its_row(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    start = TODAY - timedelta(days=20)
    pid = (await started(client, area, area.la_headers, start))["id"]
    day = weekdays(start, TODAY)[0]
    listed, nested = mark(pid, day, "am"), mark(pid, day, "pm")
    listed["session"] = ["am"]
    nested["mark"] = {"mark": "present"}
    r = await post_marks(client, area.provider_headers, [listed, nested, mark(pid, day, "pm")])
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["inserted"] == 1
    assert [(e["row"], [p["field"] for p in e["errors"]]) for e in report["errors"]] == [
        (1, ["session"]),
        (2, ["mark"]),
    ]


async def test_a_body_that_cannot_be_read_is_422_whoever_sends_it(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    for body, content_type in [(b"not json", "application/json"), (b"x\n", "text/csv")]:
        r = await client.post(
            "/v1/attendance",
            content=body,
            headers={**area.la_headers, "Content-Type": content_type, "Idempotency-Key": "k1"},
        )
        assert r.status_code == 422, r.text
    r = await post_marks(client, area.la_headers, [mark(str(uuid.uuid4()), TODAY)])
    assert r.status_code == 403, r.text
