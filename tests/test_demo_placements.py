"""The demo area's placements: every state, the oversight cases an LA looks for, and one
event per version for each."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from aphub.config import Settings
from aphub.db import Database
from aphub.demo import load_demo
from aphub.events.verify import verify_chain


async def test_demo_placements_cover_every_state_and_each_has_one_event_per_version(
    db: Database,
    settings: Settings,
    superuser: asyncpg.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await load_demo(db, settings, only_if_empty=True)
    progress = capsys.readouterr().err
    assert "demo [1/8] organisations ..." in progress
    assert "demo [8/8] a webhook subscription: done in" in progress
    assert "demo: finished in" in progress
    rows = await superuser.fetch(
        "SELECT p.id, p.child_id, p.status, p.version, p.hours_per_week, p.planned_end_date, "
        "p.next_review_date, (SELECT count(*) FROM events e WHERE e.subject_type = 'placement' "
        "AND e.subject_id = p.id) AS events, "
        "(SELECT count(*) FROM placement_reviews r WHERE r.placement_id = p.id) AS reviews "
        "FROM placements p"
    )
    assert {r["status"] for r in rows} == {
        "requested",
        "offered",
        "active",
        "ended",
        "declined",
        "cancelled",
    }
    assert all(r["events"] == r["version"] for r in rows), rows
    active = [r for r in rows if r["status"] == "active"]
    today = date.today()
    assert any(r["planned_end_date"] < today for r in active)  # past its planned end
    assert any(r["next_review_date"] < today for r in active)  # review overdue
    assert sum(r["reviews"] > 0 for r in rows) >= 4
    part_time = [r["child_id"] for r in active if r["hours_per_week"] < 25]
    assert any(part_time.count(c) >= 2 for c in part_time)  # concurrent part-time placements
    # children out of education: day 4 of a permanent exclusion (nothing owed yet), one
    # past day 6 without provision, an eight-day suspension with the school's provision,
    # and part-time timetables past review
    flags = await superuser.fetch(
        "SELECT c.legal_first_name AS name, f.kind FROM education_flags f "
        "JOIN children c ON c.id = f.child_id WHERE f.cleared_on IS NULL"
    )
    kinds = {(r["name"], r["kind"]) for r in flags}
    assert ("Reggie", "sixth_day_breach") in kinds
    assert not {n for n, _ in kinds} & {"Mohammed", "Leila"}
    assert "part_time_review_overdue" in {k for _, k in kinds}
    excluded = await superuser.fetch(
        "SELECT c.legal_first_name AS name, x.kind, x.school_days FROM exclusions x "
        "JOIN children c ON c.id = x.child_id ORDER BY name"
    )
    assert [(r["name"], r["kind"]) for r in excluded] == [
        ("Leila", "suspension"),
        ("Mohammed", "permanent"),
        ("Reggie", "permanent"),
    ]
    result = await verify_chain(db)
    assert result.ok, result
    # a second load into a database that holds data changes nothing
    assert not await load_demo(db, settings, only_if_empty=True)
