"""A child's education today: the duties its exclusions carry, what is provided, the
school days it has spent without suitable education (and when), and the open flags
addressed to the caller."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from aphub.attendance.calendar import Calendar
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.education import duty
from aphub.education.exclusions import england_today, require_education
from aphub.education.facts import ChildFacts, calendars_for, child_facts, exclusion_calendars
from aphub.sharing import gate
from aphub.sharing.policy import AreaSettings, active_policy

HISTORY_DAYS = 730  # the figure and its history cover the last two years
_FLAGS = (
    "SELECT id, child_id, kind, subject_id, responsible_id, home_la_id, since, raised_on, "
    "cleared_on, details FROM education_flags WHERE child_id = ANY(:ids::uuid[]) "
    "AND cleared_on IS NULL AND (responsible_id = :org OR home_la_id = :org) "
    "ORDER BY raised_on, id"
)


async def education_status(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    as_of: date | None = None,
    surface: str = "rest",
) -> dict[str, Any]:
    """Audited as action `education`; 404 when the child is hidden, 403 without the
    `education` category."""
    decision = await gate.decide_audited(
        uow, principal, child_id, action="education", surface=surface
    )
    require_education(decision)
    return (await statuses_of(uow, principal, [child_id], as_of=as_of))[child_id]


async def statuses_of(
    uow: ReadUnit,
    principal: Principal,
    child_ids: list[uuid.UUID],
    *,
    as_of: date | None = None,
) -> dict[uuid.UUID, dict[str, Any]]:
    """For children the sharing layer has already shown the caller with `education`."""
    today = as_of or england_today()
    since = today - timedelta(days=HISTORY_DAYS)
    facts = await child_facts(uow, child_ids)
    calendars = await calendars_for(uow, list(facts.values()), since) if facts else {}
    flags: dict[uuid.UUID, list[dict[str, Any]]] = {c: [] for c in child_ids}
    for row in await uow.fetch(_FLAGS, ids=child_ids, org=principal.organisation_id):
        flags[row["child_id"]].append(dict(row))
    area = active_policy().area
    return {
        child_id: {**_status(child, calendars, area, today, since), "open_flags": flags[child_id]}
        for child_id, child in facts.items()
    }


def _status(
    child: ChildFacts,
    calendars: dict[uuid.UUID, Calendar],
    area: AreaSettings,
    today: date,
    since: date,
) -> dict[str, Any]:
    home = calendars.get(child.home_la_id, Calendar())
    by_school = exclusion_calendars(child, calendars)
    duties: list[dict[str, Any]] = []
    excluded_today: set[uuid.UUID] = set()
    schools: dict[uuid.UUID, list[duty.ExclusionFacts]] = {}
    for x in child.exclusions:
        schools.setdefault(x.school_id, []).append(x)
    for school_id, theirs in schools.items():
        calendar = by_school.get(school_id, home)
        # the sixth day is known ahead: a permanent exclusion runs on, a suspension its length
        ahead = {
            r.exclusions[0].id: r.duty_day
            for r in duty.runs(calendar, theirs, today + timedelta(days=60), child.rolls)
        }
        for run in duty.runs(calendar, theirs, today, child.rolls):
            duty_day = run.duty_day or ahead.get(run.exclusions[0].id)
            running = today in run.days
            if running:
                excluded_today.add(school_id)
            met = None
            if run.duty_day is not None and today in run.duty_days:
                offered = duty.provision(
                    today, child.placements, child.rolls, {school_id}, area.full_time_hours
                )
                met = offered.suitable
            on = today if running else run.days[-1]
            duties.append(
                {
                    "first_day": run.days[0],
                    "last_day": run.days[-1],
                    "school_days": len(run.days),
                    "duty_day": duty_day,
                    "responsible_id": (
                        run.holder_on(duty_day if duty_day > on else on, child.home_la_id)
                        if duty_day
                        else None
                    ),
                    "exclusion_ids": [x.id for x in run.exclusions],
                    "met_today": met,
                }
            )
    offered = duty.provision(
        today, child.placements, child.rolls, excluded_today, area.full_time_hours
    )
    spans = duty.days_without_education(
        date_of_birth=child.date_of_birth,
        home_la_id=child.home_la_id,
        home_calendar=home,
        exclusion_calendars=by_school,
        exclusions=child.exclusions,
        placements=child.placements,
        rolls=child.rolls,
        full_time_hours=area.full_time_hours,
        since=since,
        until=today,
    )
    return {
        "child_id": child.child_id,
        "as_of": today,
        "compulsory_school_age": duty.compulsory_school_age(child.date_of_birth, today),
        "provision": {
            "hours_per_week": offered.hours,
            "full_time": offered.full_time,
            "part_time_agreed": offered.part_time_agreed,
        },
        "duties": sorted(duties, key=lambda d: d["first_day"], reverse=True),
        "days_without_suitable_education": sum(s.school_days for s in spans),
        "history": [
            {
                "first_day": s.first,
                "last_day": s.last,
                "school_days": s.school_days,
                "reason": s.reason,
                "responsible_id": s.responsible_id,
            }
            for s in spans
        ],
    }
