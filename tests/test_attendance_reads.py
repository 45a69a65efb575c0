"""Reading attendance: per placement and per child through the sharing layer, summaries
over a window, pages in date order, and the same over GraphQL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.attendance_factories import area_in, mark, post_marks, started, weekdays
from tests.factories import auth, make_org, token_for
from tests.placement_factories import make_area

TODAY = date.today()


async def _returned(client: httpx.AsyncClient, app: FastAPI, db: Database) -> dict[str, Any]:
    area = await make_area(app, db)
    start = TODAY - timedelta(days=40)
    placement = await started(client, area, area.school_headers, start)  # school-arranged
    pid = placement["id"]
    days = weekdays(start, TODAY - timedelta(days=1))[:20]
    marks = []
    for i, d in enumerate(days):
        marks.append(mark(pid, d, "am", "present"))
        if i % 5 == 0:
            marks.append(mark(pid, d, "pm", "absent_unauthorised"))
        elif i % 5 == 1:
            marks.append(mark(pid, d, "pm", "not_required"))
        else:
            marks.append(mark(pid, d, "pm", "late", minutes_late=12))
    r = await post_marks(client, area.provider_headers, marks)
    assert r.json()["inserted"] == 40, r.text
    return {"area": area, "pid": pid, "days": days}


async def test_child_attendance_needs_the_child_visible_and_the_placement_category(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    ctx = await _returned(client, app, db)
    area, child = ctx["area"], ctx["area"].child.id
    # the school (on roll and commissioner), the home LA and the provider see it
    for headers in (area.school_headers, area.la_headers, area.provider_headers):
        r = await client.get(f"/v1/children/{child}/attendance?limit=500", headers=headers)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert len(items) == 40
        assert {m["code"] for m in items} == {"B", "O", "X"}
    # nobody else does: a provider of another area, a health body with no involvement
    other = await area_in(app, db, "802")
    health = await make_org(db, "health")
    for headers in (other.provider_headers, other.la_headers, auth(token_for(app, health))):
        r = await client.get(f"/v1/children/{child}/attendance", headers=headers)
        assert r.status_code in (403, 404), r.text
        r = await client.get(f"/v1/placements/{ctx['pid']}/attendance", headers=headers)
        assert r.status_code in (403, 404), r.text
    async with db.reading() as unit:
        audited = await unit.fetchval(
            "SELECT count(*) FROM access_log_entries WHERE action = 'attendance' "
            "AND child_id = :child_id::uuid AND outcome = 'allowed'",
            child_id=child,
        )
        assert audited == 3


async def test_marks_page_in_date_order_and_summaries_count_the_window(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    ctx = await _returned(client, app, db)
    area, pid, days = ctx["area"], ctx["pid"], ctx["days"]
    seen: list[tuple[str, str]] = []
    path = f"/v1/placements/{pid}/attendance?limit=7"
    while path:
        r = await client.get(path, headers=area.la_headers)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [(m["date"], m["session"]) for m in page["items"]]
        cursor = page["next_cursor"]
        path = f"/v1/placements/{pid}/attendance?limit=7&cursor={cursor}" if cursor else ""
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 40

    r = await client.get(f"/v1/placements/{pid}/attendance/summary", headers=area.la_headers)
    s = r.json()
    # 20 am present; pm: 4 unauthorised, 4 not required, 12 late
    assert (s["possible"], s["attended"], s["present"], s["late"]) == (36, 32, 20, 12)
    assert (s["absent_unauthorised"], s["unexplained_absences"], s["not_required"]) == (4, 4, 4)
    assert s["percentage"] == round(32 * 100 / 36, 1)

    window = f"from={days[5].isoformat()}&to={days[9].isoformat()}"
    r = await client.get(
        f"/v1/placements/{pid}/attendance/summary?{window}", headers=area.la_headers
    )
    s = r.json()
    assert (s["from_date"], s["to_date"]) == (days[5].isoformat(), days[9].isoformat())
    assert (s["possible"], s["attended"]) == (9, 8)
    r = await client.get(
        f"/v1/children/{area.child.id}/attendance/summary?{window}", headers=area.school_headers
    )
    assert r.json()["possible"] == 9

    r = await client.get("/v1/attendance/summary?status=active", headers=area.la_headers)
    [row] = r.json()["items"]
    assert row["placement_id"] == pid
    assert (row["possible"], row["attended"]) == (36, 32)
    r = await client.get(
        f"/v1/placements/{pid}/attendance/summary?from=2026-05-02&to=2026-05-01",
        headers=area.la_headers,
    )
    assert r.status_code == 422


async def test_graphql_reads_and_returns_attendance_like_rest(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    ctx = await _returned(client, app, db)
    area, pid = ctx["area"], ctx["pid"]
    query = """
    query ($p: UUID!, $c: UUID!) {
      placementAttendance(placementId: $p, first: 3) { items { date session mark code } nextCursor }
      attendanceSummary(placementId: $p) { possible attended percentage }
      child: attendanceSummary(childId: $c, from: "2000-01-01") { possible }
    }"""
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": {"p": pid, "c": str(area.child.id)}},
        headers=area.la_headers,
    )
    body = r.json()
    assert "errors" not in body, body
    data = body["data"]
    assert len(data["placementAttendance"]["items"]) == 3
    assert data["placementAttendance"]["items"][0]["code"] == "B"
    assert data["placementAttendance"]["nextCursor"]
    assert data["attendanceSummary"] == {"possible": 36, "attended": 32, "percentage": 88.9}
    assert data["child"] == {"possible": 36}

    mutation = """
    mutation ($marks: JSON!) {
      returnAttendance(marks: $marks) {
        accepted rejected inserted replaced errors { row message }
      }
    }"""
    day = ctx["days"][0].isoformat()
    marks = [
        {
            "placement_id": pid,
            "date": day,
            "session": "pm",
            "mark": "absent_authorised",
            "note": "Hospital appointment",
        },
        {"placement_id": pid, "date": "2999-01-01", "session": "am", "mark": "present"},
    ]
    r = await client.post(
        "/graphql",
        json={"query": mutation, "variables": {"marks": marks}},
        headers=area.provider_headers,
    )
    result = r.json()["data"]["returnAttendance"]
    assert (result["accepted"], result["rejected"], result["replaced"]) == (1, 1, 1)
    assert result["errors"][0]["row"] == 2
    assert "future" in result["errors"][0]["message"]
    r = await client.post(
        "/graphql",
        json={"query": mutation, "variables": {"marks": marks}},
        headers=area.la_headers,
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
