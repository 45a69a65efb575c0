"""An area whose oversight reports are known by construction: a home LA with its
residents' placements, a school in its area and that school's trust, a registered provider
in the area and an unregistered one in another, and another LA's child placed at the
latter whose records meet every report's criteria and must appear in none of the first
LA's (or the school's, or the trust's) reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
from fastapi import FastAPI

from aphub.db import Database
from aphub.education.exclusions import england_today
from aphub.ids import uuid7
from aphub.models import Organisation
from tests.factories import auth, make_org, token_for

READ = ["reports:read"]


@dataclass
class ReportArea:
    la: Organisation
    other_la: Organisation
    school: Organisation
    trust: Organisation
    provider: Organisation
    unregistered: Organisation
    headers: dict[str, dict[str, str]]
    children: dict[str, uuid.UUID] = field(default_factory=dict)
    placements: dict[str, uuid.UUID] = field(default_factory=dict)
    flags: dict[str, uuid.UUID] = field(default_factory=dict)


async def _child(
    db: asyncpg.Connection, area: ReportArea, name: str, home: Organisation
) -> uuid.UUID:
    child_id = uuid7()
    await db.execute(
        "INSERT INTO children (id, legal_first_name, legal_last_name, date_of_birth, "
        "year_group, home_la_id) VALUES ($1, $2, 'Report', '2012-03-01', '9', $3)",
        child_id,
        name.title(),
        home.id,
    )
    area.children[name] = child_id
    return child_id


async def _placement(
    db: asyncpg.Connection,
    area: ReportArea,
    name: str,
    child: str,
    *,
    commissioner: Organisation,
    provider: Organisation,
    status: str = "active",
    start: date,
    planned_end: date,
    next_review: date | None,
    exit_strategy: bool = True,
    outcome: bool = True,
    hours: int = 25,
    ended: date | None = None,
    end_reason: str | None = None,
    destination: str | None = None,
    home_school: Organisation | None = None,
) -> uuid.UUID:
    placement_id = uuid7()
    await db.execute(
        "INSERT INTO placements (id, child_id, commissioner_id, provider_id, home_school_id, "
        "status, legal_basis, primary_reason, start_date, planned_end_date, actual_end_date, "
        "hours_per_week, exit_strategy, next_review_date, end_reason, destination) VALUES "
        "($1, $2, $3, $4, $5, $6, 's19_education_act_1996', 'permanent_exclusion', $7, $8, "
        "$9, $10, $11::jsonb, $12, $13, $14)",
        placement_id,
        area.children[child],
        commissioner.id,
        provider.id,
        home_school.id if home_school else None,
        status,
        start,
        planned_end,
        ended,
        hours,
        '{"intended_destination": "reintegrated_home_school"}' if exit_strategy else None,
        next_review,
        end_reason,
        destination,
    )
    if outcome:
        await db.execute(
            "INSERT INTO intended_outcomes (id, placement_id, description, baseline, target, "
            "measure, target_date) VALUES ($1, $2, 'Attend', '50%', '90%', 'register', $3)",
            uuid7(),
            placement_id,
            planned_end,
        )
    area.placements[name] = placement_id
    return placement_id


async def _marks(
    db: asyncpg.Connection, placement_id: uuid.UUID, today: date, present: int, absent: int
) -> None:
    """`present + absent` sessions on the school days before today, present first."""
    days = [today - timedelta(days=d) for d in range(1, 40)]
    days = [d for d in days if d.weekday() < 5][: (present + absent + 1) // 2]
    sessions = [(d, s) for d in days for s in ("am", "pm")][: present + absent]
    rows = [
        (
            placement_id,
            d,
            s,
            "present" if i < present else "absent_unauthorised",
            "K" if i < present else "O",
        )
        for i, (d, s) in enumerate(sessions)
    ]
    await db.copy_records_to_table(
        "attendance_marks",
        records=rows,
        columns=["placement_id", "date", "session", "mark", "code"],
    )


async def _flag(
    db: asyncpg.Connection,
    area: ReportArea,
    name: str,
    child: str,
    home: Organisation,
    since: date,
    *,
    cleared: date | None = None,
) -> None:
    flag_id = uuid7()
    await db.execute(
        "INSERT INTO education_flags (id, child_id, kind, subject_id, responsible_id, "
        "home_la_id, since, raised_on, cleared_on) VALUES ($1, $2, 'missing_education', $2, "
        "$3, $3, $4, $4, $5)",
        flag_id,
        area.children[child],
        home.id,
        since,
        cleared,
    )
    area.flags[name] = flag_id


async def make_report_area(app: FastAPI, database: Database, db: asyncpg.Connection) -> ReportArea:
    la = await make_org(database, "local_authority", la_code="202", name="Home LA")
    other_la = await make_org(database, "local_authority", la_code="203", name="Other LA")
    trust = await make_org(database, "trust", name="The Trust")
    school = await make_org(
        database, "school", local_authority_id=la.id, trust_id=trust.id, name="Area School"
    )
    provider = await make_org(database, "provider", local_authority_id=la.id, name="Area PRU")
    unregistered = await make_org(
        database, "provider", local_authority_id=other_la.id, name="=Tuition Co"
    )
    today = england_today()
    assessor = other_la
    await db.execute(
        "INSERT INTO provider_profiles (organisation_id, registration_status, qa_status, "
        "qa_next_due_on, staff_checks_confirmed_on) VALUES ($1, 'pru', 'approved', $2, $3)",
        provider.id,
        today + timedelta(days=90),
        today - timedelta(days=30),
    )
    await db.execute(
        "INSERT INTO provider_profiles (organisation_id, registration_status, "
        "census_setting_type, qa_status, qa_assessor_organisation_id, qa_last_visit_on, "
        "qa_next_due_on, staff_checks_confirmed_on) VALUES ($1, 'unregistered', 'OOT', "
        "'approved', $2, $3, $4, $3)",
        unregistered.id,
        assessor.id,
        today - timedelta(days=400),
        today - timedelta(days=35),
    )
    orgs = {"la": la, "other_la": other_la, "school": school, "trust": trust}
    orgs |= {"provider": provider}
    headers = {k: auth(token_for(app, o, READ)) for k, o in orgs.items()}
    area = ReportArea(la, other_la, school, trust, provider, unregistered, headers)
    for name in ("amy", "ben", "cal", "dee", "eve", "fay"):
        await _child(db, area, name, la)
    await _child(db, area, "hidden", other_la)
    await _child(db, area, "hidden2", other_la)
    await _child(db, area, "hidden3", other_la)
    start = today - timedelta(days=100)
    plan = {"start": start, "commissioner": la, "provider": provider}
    # amy: on plan, in nothing but attendance (severe) and the out-of-education flag
    await _placement(
        db, area, "amy", "amy", **plan, planned_end=today + timedelta(days=30),
        next_review=today + timedelta(days=10),
    )  # fmt: skip
    # ben: past his planned end, review overdue, attendance persistent
    await _placement(
        db, area, "ben", "ben", **plan, planned_end=today - timedelta(days=5),
        next_review=today - timedelta(days=3),
    )  # fmt: skip
    # cal: no review date, no outcome, no exit strategy
    await _placement(
        db, area, "cal", "cal", **plan, planned_end=today + timedelta(days=30),
        next_review=None, exit_strategy=False, outcome=False,
    )  # fmt: skip
    # dee: arranged by the area's school at the unregistered provider out of the area,
    # past its planned end
    await _placement(
        db, area, "dee", "dee", start=start, commissioner=school, provider=unregistered,
        home_school=school, planned_end=today - timedelta(days=1),
        next_review=today + timedelta(days=10),
    )  # fmt: skip
    # eve: two breakdowns within 12 months, the second followed up as sustained
    for n, ended in (("eve1", 60), ("eve2", 20)):
        await _placement(
            db, area, n, "eve", **plan | {"start": today - timedelta(days=200)},
            planned_end=today, next_review=None, status="ended",
            ended=today - timedelta(days=ended), end_reason="breakdown", destination="other_ap",
        )  # fmt: skip
    await db.execute(
        "INSERT INTO placement_follow_ups (id, placement_id, kind, due_on, sustained, "
        "recorded_on, recorded_by_id) VALUES ($1, $2, 'six_weeks', $3, true, $3, $4)",
        uuid7(),
        area.placements["eve2"],
        today,
        la.id,
    )
    # fay: one breakdown only, over 12 months ago a second: not repeated
    await _placement(
        db, area, "fay1", "fay", **plan | {"start": today - timedelta(days=600)},
        planned_end=today, next_review=None, status="ended",
        ended=today - timedelta(days=400), end_reason="breakdown", destination="neet",
    )  # fmt: skip
    await _placement(
        db, area, "fay2", "fay", **plan | {"start": today - timedelta(days=200)},
        planned_end=today, next_review=None, status="ended",
        ended=today - timedelta(days=30), end_reason="breakdown", destination="neet",
    )  # fmt: skip
    # the other LA's children at the unregistered provider: every criterion met, and with
    # dee four full-time pupils there (one away from the threshold)
    hidden = {
        "commissioner": other_la, "provider": unregistered, "start": start,
        "planned_end": today - timedelta(days=9), "next_review": today - timedelta(days=9),
        "exit_strategy": False, "outcome": False,
    }  # fmt: skip
    for child in ("hidden", "hidden2", "hidden3"):
        await _placement(db, area, child, child, **hidden)
    for n, ended in (("hidden_b1", 50), ("hidden_b2", 10)):
        await _placement(
            db, area, n, "hidden", **hidden | {"start": today - timedelta(days=300)},
            status="ended", ended=today - timedelta(days=ended), end_reason="breakdown",
            destination="neet",
        )  # fmt: skip
    await _marks(db, area.placements["amy"], today, 4, 6)
    await _marks(db, area.placements["ben"], today, 8, 2)
    await _marks(db, area.placements["cal"], today, 10, 0)
    await _marks(db, area.placements["hidden"], today, 0, 10)
    await _flag(db, area, "amy", "amy", la, today - timedelta(days=12))
    await _flag(db, area, "ben_cleared", "ben", la, today - timedelta(days=30), cleared=today)
    await _flag(db, area, "hidden", "hidden", other_la, today - timedelta(days=12))
    await db.execute(
        "INSERT INTO provider_concerns (id, provider_id, category, severity, reason, "
        "raised_by_organisation_id) VALUES ($1, $2, 'safeguarding', 'high', 'Late checks', $3)",
        uuid7(),
        unregistered.id,
        la.id,
    )
    return area


def ids(document: dict[str, Any], column: str = "placement_id") -> set[str]:
    return {row[column] for row in document["items"]}
