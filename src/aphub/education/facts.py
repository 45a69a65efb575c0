"""What the duty arithmetic (`aphub.education.duty`) needs to know of children: their
exclusions, placements and rolls, and the calendars of the authorities concerned.

Read for children the sharing layer has already shown the caller (a child's education
status), or by the daily job for the children it examines: nothing here decides who
sees what, and nothing read here is answered as it stands.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from aphub.attendance.calendar import Calendar, calendars
from aphub.db import ReadUnit
from aphub.education.duty import ExclusionFacts, PlacementFacts, RollFacts

_CHILDREN = "SELECT id, date_of_birth, home_la_id FROM children WHERE id = ANY(:ids::uuid[])"
_EXCLUSIONS = (
    "SELECT x.id, x.child_id, x.kind, x.school_id, s.local_authority_id AS school_la_id, "
    "x.first_day, x.school_days, x.status, x.status_on FROM exclusions x "
    "JOIN organisations s ON s.id = x.school_id WHERE x.child_id = ANY(:ids::uuid[]) "
    "ORDER BY x.first_day, x.id"
)
_PLACEMENTS = (
    "SELECT id, child_id, commissioner_id, status, start_date, actual_end_date, "
    "hours_per_week, part_time_justification IS NOT NULL AS justified, "
    "part_time_parent_agreed_on, part_time_review_date FROM placements "
    "WHERE child_id = ANY(:ids::uuid[]) AND status IN ('active', 'ended')"
)
_ROLLS = (
    "SELECT id, child_id, school_id, status, start_date, end_date, hours_per_week "
    "FROM enrolments WHERE child_id = ANY(:ids::uuid[])"
)


@dataclass
class ChildFacts:
    child_id: uuid.UUID
    date_of_birth: date
    home_la_id: uuid.UUID
    exclusions: list[ExclusionFacts] = field(default_factory=list)
    placements: list[PlacementFacts] = field(default_factory=list)
    rolls: list[RollFacts] = field(default_factory=list)
    # the local authority of each excluding school (whose calendar counts its days)
    school_las: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)


async def child_facts(uow: ReadUnit, child_ids: list[uuid.UUID]) -> dict[uuid.UUID, ChildFacts]:
    found = {
        r["id"]: ChildFacts(r["id"], r["date_of_birth"], r["home_la_id"])
        for r in await uow.fetch(_CHILDREN, ids=child_ids)
    }
    if not found:
        return found
    ids = list(found)
    for r in await uow.fetch(_EXCLUSIONS, ids=ids):
        facts = found[r["child_id"]]
        facts.exclusions.append(
            ExclusionFacts(
                r["id"],
                r["kind"],
                r["school_id"],
                r["first_day"],
                r["school_days"],
                r["status"],
                r["status_on"],
            )
        )
        if r["school_la_id"] is not None:
            facts.school_las[r["school_id"]] = r["school_la_id"]
    for r in await uow.fetch(_PLACEMENTS, ids=ids):
        found[r["child_id"]].placements.append(
            PlacementFacts(
                r["id"],
                r["commissioner_id"],
                r["status"],
                r["start_date"],
                r["actual_end_date"],
                r["hours_per_week"],
                r["justified"],
                r["part_time_parent_agreed_on"],
                r["part_time_review_date"],
            )
        )
    for r in await uow.fetch(_ROLLS, ids=ids):
        found[r["child_id"]].rolls.append(
            RollFacts(
                r["id"],
                r["school_id"],
                r["status"],
                r["start_date"],
                r["end_date"],
                r["hours_per_week"],
            )
        )
    return found


async def calendars_for(
    uow: ReadUnit, facts: list[ChildFacts], since: date
) -> dict[uuid.UUID, Calendar]:
    """The calendars of every home LA and excluding school's LA among these children."""
    las = {f.home_la_id for f in facts} | {la for f in facts for la in f.school_las.values()}
    return await calendars(uow, sorted(las), since)


def exclusion_calendars(
    facts: ChildFacts, by_la: dict[uuid.UUID, Calendar]
) -> dict[uuid.UUID, Calendar]:
    home = by_la.get(facts.home_la_id, Calendar())
    return {school: by_la.get(la, home) for school, la in facts.school_las.items()}
