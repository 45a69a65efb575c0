"""The daily flags: who is out of education today, and who must act.

- `sixth_day_breach`: an excluded child on or after the sixth school day of the run
  without suitable full-time education; raised to the body that owes it (the excluding
  school for a suspension, the home LA for a permanent exclusion) and the home LA;
  cleared once suitable provision is in place or the exclusion is over. Evaluated on
  school days only (on other days a flag stays as it is).
- `part_time_review_overdue`: an active placement whose part-time timetable is past its
  review date; to the commissioner and the home LA.
- `waiting_for_place`: a placement requested and not offered within the area's number of
  school days (`[area] waiting_for_place_school_days`); to the commissioner and home LA.
- `missing_education`: a child of compulsory school age who left a roll, has no new roll
  and no placement, after the area's number of school days; to the home LA.

A flag is a row unique while open on (kind, subject). A run computes which flags should
be open today, inserts those that are not (ON CONFLICT DO NOTHING on the open-flag index,
so concurrent or repeated runs raise each once) and clears those no longer due; each
insert and each clearing records its event, addressed (`data.to`) to the bodies named
above, which the feed and webhooks respect on top of the sharing rules. A run takes a
transaction-level advisory lock first and skips when another run holds it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aphub.attendance.calendar import Calendar
from aphub.attendance.calendar import calendars as la_calendars
from aphub.db import WriteUnit
from aphub.education import duty
from aphub.education.exclusions import ENGLAND, england_today
from aphub.education.facts import ChildFacts, calendars_for, child_facts, exclusion_calendars
from aphub.events.log import Actor, record
from aphub.ids import uuid7
from aphub.sharing.policy import AreaSettings, active_policy

LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('aphub:education-flags', 0))"
LOOKBACK_DAYS = 400
SCOPE = "(:la_id::uuid IS NULL OR c.home_la_id = :la_id)"
# children whose exclusions may still run: recent ones, and permanent ones not undone
EXCLUDED = (
    "SELECT DISTINCT x.child_id FROM exclusions x JOIN children c ON c.id = x.child_id "
    "WHERE c.merged_into_id IS NULL AND (x.first_day >= :recent OR (x.kind = 'permanent' "
    f"AND x.status NOT IN ('withdrawn', 'reinstated'))) AND {SCOPE}"
)
WAITING = (
    "SELECT p.id, p.child_id, p.commissioner_id, c.home_la_id, p.created_at "
    "FROM placements p JOIN children c ON c.id = p.child_id "
    f"WHERE p.status = 'requested' AND p.created_at < :waited AND {SCOPE}"
)
PART_TIME = (
    "SELECT p.id, p.child_id, p.commissioner_id, c.home_la_id, p.part_time_review_date "
    "FROM placements p JOIN children c ON c.id = p.child_id "
    f"WHERE p.status = 'active' AND p.part_time_review_date < :today AND {SCOPE}"
)
# the last roll a child left, when it has no roll now and no placement under way
LEFT_ROLL = (
    "SELECT DISTINCT ON (e.child_id) e.id, e.child_id, c.home_la_id, c.date_of_birth, "
    "e.end_date FROM enrolments e JOIN children c ON c.id = e.child_id "
    "WHERE e.end_date < :today AND e.end_date >= :recent AND c.merged_into_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM enrolments n WHERE n.child_id = e.child_id "
    "AND n.start_date <= :today AND (n.end_date IS NULL OR n.end_date >= :today)) "
    "AND NOT EXISTS (SELECT 1 FROM placements p WHERE p.child_id = e.child_id "
    "AND p.status IN ('requested', 'offered', 'active')) "
    f"AND {SCOPE} ORDER BY e.child_id, e.end_date DESC"
)
OPEN = (
    "SELECT f.id, f.child_id, f.kind, f.subject_id, f.responsible_id, f.home_la_id "
    "FROM education_flags f JOIN children c ON c.id = f.child_id "
    f"WHERE f.cleared_on IS NULL AND {SCOPE}"
)
INSERT = (
    "INSERT INTO education_flags (id, child_id, kind, subject_id, responsible_id, "
    "home_la_id, since, raised_on, details) SELECT t.id, t.child_id, t.kind, t.subject_id, "
    "t.responsible_id, t.home_la_id, t.since, t.raised_on, t.details::jsonb FROM unnest("
    ":id::uuid[], :child_id::uuid[], :kind::text[], :subject_id::uuid[], "
    ":responsible_id::uuid[], :home_la_id::uuid[], :since::date[], :raised_on::date[], "
    ":details::text[]) AS t(id, child_id, kind, subject_id, responsible_id, home_la_id, "
    "since, raised_on, details) "
    "ON CONFLICT (kind, subject_id) WHERE cleared_on IS NULL DO NOTHING "
    "RETURNING id, child_id, kind, subject_id, responsible_id, home_la_id, since, details"
)
CLEAR = (
    "UPDATE education_flags SET cleared_on = :today WHERE id = ANY(:ids::uuid[]) "
    "AND cleared_on IS NULL RETURNING id, child_id, kind, subject_id, responsible_id, home_la_id"
)


@dataclass(frozen=True)
class Due:
    child_id: uuid.UUID
    kind: str
    subject_id: uuid.UUID
    responsible_id: uuid.UUID
    home_la_id: uuid.UUID
    since: date
    details: dict[str, Any]


def breaches(
    facts: ChildFacts, calendars: dict[uuid.UUID, Calendar], area: AreaSettings, today: date
) -> tuple[list[Due], bool]:
    """The sixth-day breaches of one child today, and whether today was a school day for
    any of its exclusions (if not, nothing about them is decided today)."""
    by_school = exclusion_calendars(facts, calendars)
    home = calendars.get(facts.home_la_id, Calendar())
    due: list[Due] = []
    decided = False
    schools: dict[uuid.UUID, list[duty.ExclusionFacts]] = {}
    for x in facts.exclusions:
        schools.setdefault(x.school_id, []).append(x)
    for school_id, theirs in schools.items():
        calendar = by_school.get(school_id, home)
        if not calendar.is_school_day(today):
            continue
        decided = True
        for run in duty.runs(calendar, theirs, today, facts.rolls):
            if run.duty_day is None or today not in run.duty_days:
                continue
            offered = duty.provision(
                today, facts.placements, facts.rolls, {school_id}, area.full_time_hours
            )
            if offered.suitable:
                continue
            holder = run.holder_on(today, facts.home_la_id)
            due.append(
                Due(
                    facts.child_id,
                    "sixth_day_breach",
                    run.exclusions[0].id,
                    holder,
                    facts.home_la_id,
                    run.duty_day,
                    {
                        "duty_day": run.duty_day.isoformat(),
                        "exclusion_ids": [str(x.id) for x in run.exclusions],
                        "holder": "home_la" if holder == facts.home_la_id else "school",
                        "hours_per_week": str(offered.hours),
                    },
                )
            )
    return due, decided


async def run_flags(
    uow: WriteUnit, *, as_of: date | None = None, la_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """Raise and clear the flags due on `as_of` (default: today in England), for the
    whole hub or one local authority's residents."""
    today = as_of or england_today()
    result: dict[str, Any] = {
        "as_of": today.isoformat(),
        "scope": str(la_id) if la_id else "hub",
        "skipped": False,
        "raised": {},
        "cleared": {},
    }
    if not await uow.fetchval(LOCK):
        result["skipped"] = True
        return result
    area = active_policy().area
    due, undecided = await _due(uow, today, la_id, area)
    wanted = {(d.kind, d.subject_id): d for d in due}
    open_rows = await uow.fetch(OPEN, la_id=la_id)
    stale = [
        r["id"]
        for r in open_rows
        if (r["kind"], r["subject_id"]) not in wanted
        and not (r["kind"] == "sixth_day_breach" and r["child_id"] in undecided)
    ]
    held = {(r["kind"], r["subject_id"]) for r in open_rows}
    new = [d for key, d in wanted.items() if key not in held]
    actor = Actor.system("education-flags")
    if new:
        inserted = await uow.fetch(
            INSERT,
            id=[uuid7() for _ in new],
            child_id=[d.child_id for d in new],
            kind=[d.kind for d in new],
            subject_id=[d.subject_id for d in new],
            responsible_id=[d.responsible_id for d in new],
            home_la_id=[d.home_la_id for d in new],
            since=[d.since for d in new],
            raised_on=[today for _ in new],
            details=[json.dumps(d.details) for d in new],
        )
        for row in inserted:
            details = wanted[(row["kind"], row["subject_id"])].details
            _event(uow, actor, "education.flag_raised", row, details, since=row["since"])
            result["raised"][row["kind"]] = result["raised"].get(row["kind"], 0) + 1
    if stale:
        for row in await uow.fetch(CLEAR, today=today, ids=stale):
            _event(uow, actor, "education.flag_cleared", row, None, cleared_on=today)
            result["cleared"][row["kind"]] = result["cleared"].get(row["kind"], 0) + 1
    return result


def _event(
    uow: WriteUnit,
    actor: Actor,
    type: str,
    row: Any,
    details: dict[str, Any] | None,
    **when: date,
) -> None:
    to = list(dict.fromkeys([str(row["responsible_id"]), str(row["home_la_id"])]))
    record(
        uow,
        type=type,
        subject_type="child",
        subject_id=row["child_id"],
        child_id=row["child_id"],
        actor=actor,
        data={
            "flag_id": str(row["id"]),
            "kind": row["kind"],
            "subject_id": str(row["subject_id"]),
            "responsible_id": str(row["responsible_id"]),
            "to": to,
            **{k: v.isoformat() for k, v in when.items()},
            **({"details": details} if details is not None else {}),
        },
    )


async def _due(
    uow: WriteUnit, today: date, la_id: uuid.UUID | None, area: AreaSettings
) -> tuple[list[Due], set[uuid.UUID]]:
    """Every flag that should be open today, and the children whose breaches could not be
    decided today (not a school day for their exclusions)."""
    due: list[Due] = []
    recent = today - timedelta(days=LOOKBACK_DAYS)
    excluded = [r["child_id"] for r in await uow.fetch(EXCLUDED, recent=recent, la_id=la_id)]
    facts = await child_facts(uow, excluded) if excluded else {}
    waiting = await uow.fetch(
        WAITING, waited=datetime.combine(today, datetime.min.time(), ENGLAND), la_id=la_id
    )
    part_time = await uow.fetch(PART_TIME, today=today, la_id=la_id)
    left = await uow.fetch(LEFT_ROLL, today=today, recent=recent, la_id=la_id)
    las = [f.home_la_id for f in facts.values()]
    las += [r["home_la_id"] for r in (*waiting, *left)]
    calendars = await calendars_for(uow, list(facts.values()), recent) if facts else {}
    if las:
        calendars = {**await la_calendars(uow, sorted(set(las)), recent), **calendars}
    undecided: set[uuid.UUID] = set()
    excluded_today: set[uuid.UUID] = set()
    for child in facts.values():
        found, decided = breaches(child, calendars, area, today)
        due += found
        if not decided:
            undecided.add(child.child_id)
        calendar = calendars.get(child.home_la_id, Calendar())
        if any(today in run.days for run in duty.runs(calendar, child.exclusions, today)):
            excluded_today.add(child.child_id)
    for r in waiting:
        calendar = calendars.get(r["home_la_id"], Calendar())
        requested_on = r["created_at"].astimezone(ENGLAND).date()
        deadline = calendar.nth_school_day(
            requested_on + timedelta(days=1), area.waiting_for_place_school_days
        )
        if today > deadline:
            details = {"requested_on": requested_on.isoformat(), "deadline": deadline.isoformat()}
            due.append(
                Due(
                    r["child_id"],
                    "waiting_for_place",
                    r["id"],
                    r["commissioner_id"],
                    r["home_la_id"],
                    deadline + timedelta(days=1),
                    details,
                )
            )
    for r in part_time:
        review = r["part_time_review_date"]
        due.append(
            Due(
                r["child_id"],
                "part_time_review_overdue",
                r["id"],
                r["commissioner_id"],
                r["home_la_id"],
                review + timedelta(days=1),
                {"review_date": review.isoformat()},
            )
        )
    for r in left:
        if r["child_id"] in excluded_today:
            continue  # its exclusion's own duty speaks for it
        calendar = calendars.get(r["home_la_id"], Calendar())
        after = calendar.nth_school_day(
            r["end_date"] + timedelta(days=1), area.missing_education_school_days
        )
        if today >= after and duty.compulsory_school_age(r["date_of_birth"], today):
            details = {"left_roll_on": r["end_date"].isoformat()}
            due.append(
                Due(
                    r["child_id"],
                    "missing_education",
                    r["id"],
                    r["home_la_id"],
                    r["home_la_id"],
                    after,
                    details,
                )
            )
    return due, undecided
