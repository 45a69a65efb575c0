"""The sixth-day duty and the school days a child spends without suitable education.

Pure functions over a child's facts (no SQL), so the rules can be read and tested as
rules. The law they follow:

- Education and Inspections Act 2006 s100: for a pupil suspended (excluded for a fixed
  period) from a school, the governing body (an academy's proprietor) must arrange
  suitable full-time education from the sixth school day.
- Education Act 1996 s19(3A)-(3B): for a pupil permanently excluded, the local authority
  must (the pupil's home authority, per the DfE guidance, when the school is in another
  area).
- Education (Provision of Full-Time Education for Excluded Pupils) (England) Regulations
  2007 (SI 2007/1870) regs 3-4, as amended by SI 2014/3216 from 5 January 2015: the duty
  runs from "the sixth consecutive school day of exclusion, regardless of whether the
  pupil has been excluded for a single fixed period or more than one fixed period", so
  consecutive suspensions count together; a suspension followed without a break by a
  permanent exclusion carries its days into the authority's duty (the hub's reading; the
  current text of reg 4(3)(a) could not be checked).
- School days are counted on the calendar of the excluding school's local authority
  (weekdays, less England's bank holidays and the authority's holidays and closures).

What the hub cannot know it does not guess: the reg 5 exceptions (a Year 11 pupil whose
exams are over; an EHC plan naming fewer hours) are for the responsible body to record as
a part-time arrangement with its reason.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from aphub.attendance.calendar import Calendar
from aphub.models.education import ENDING_STATUSES

DUTY_DAY = 6  # the sixth school day of exclusion
ON_ROLL = ("C", "M")  # a subsidiary (S) registration is not the child's school


@dataclass(frozen=True)
class ExclusionFacts:
    id: uuid.UUID
    kind: str  # suspension | permanent
    school_id: uuid.UUID
    first_day: date
    school_days: Decimal | None
    status: str
    status_on: date | None


@dataclass(frozen=True)
class PlacementFacts:
    id: uuid.UUID
    commissioner_id: uuid.UUID
    status: str
    start_date: date
    end_date: date | None
    hours: Decimal | None
    part_time_justification: bool = False
    parent_agreed_on: date | None = None
    review_date: date | None = None

    def active_on(self, day: date) -> bool:
        return (
            self.status in ("active", "ended")
            and self.start_date <= day
            and (self.end_date is None or self.end_date >= day)
        )

    def part_time_agreed_on(self, day: date) -> bool:
        """A part-time arrangement with its reason, the parent's agreement and a review
        not yet past."""
        return (
            self.part_time_justification
            and self.parent_agreed_on is not None
            and self.review_date is not None
            and self.review_date >= day
        )


@dataclass(frozen=True)
class RollFacts:
    id: uuid.UUID
    school_id: uuid.UUID
    status: str
    start_date: date
    end_date: date | None
    hours: Decimal | None = None  # the school's own hours for a part-time roll

    def on_roll(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


@dataclass(frozen=True)
class Provision:
    hours: Decimal
    full_time: bool  # on a full-time roll, or placements (and part-time roll) reaching it
    part_time_agreed: bool  # a part-time arrangement made as the guidance requires

    @property
    def suitable(self) -> bool:
        return self.full_time or self.part_time_agreed


@dataclass
class Run:
    """Consecutive school days of exclusion (suspensions back to back, and a permanent
    exclusion that follows them): the duty counts them together."""

    exclusions: list[ExclusionFacts] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    permanent_from: date | None = None  # the first day the permanent exclusion runs

    @property
    def duty_day(self) -> date | None:
        return self.days[DUTY_DAY - 1] if len(self.days) >= DUTY_DAY else None

    @property
    def duty_days(self) -> list[date]:
        return self.days[DUTY_DAY - 1 :]

    def holder_on(self, day: date, home_la_id: uuid.UUID) -> uuid.UUID:
        """Who owes the education that day: the home LA once the permanent exclusion
        runs, the excluding school's governing body before (a suspension)."""
        if self.permanent_from is not None and day >= self.permanent_from:
            return home_la_id
        suspension = next(x for x in reversed(self.exclusions) if x.first_day <= day)
        return suspension.school_id


def exclusion_days(
    calendar: Calendar, exclusion: ExclusionFacts, until: date, rolls: Sequence[RollFacts] = ()
) -> list[date]:
    """The school days an exclusion runs, up to `until`. A suspension runs its number of
    school days (a half day counts as a day of exclusion); a permanent exclusion until
    the child is admitted to another school. Withdrawn or reinstated: not from
    `status_on`."""
    last = until
    if exclusion.status in ENDING_STATUSES and exclusion.status_on is not None:
        last = min(last, exclusion.status_on - timedelta(days=1))
    if exclusion.kind == "suspension":
        n = math.ceil(exclusion.school_days or 0)
        end = calendar.nth_school_day(exclusion.first_day, n) if n else exclusion.first_day
        return calendar.school_days(exclusion.first_day, min(end, last)) if n else []
    admitted = [
        r.start_date
        for r in rolls
        if r.school_id != exclusion.school_id
        and r.status in ON_ROLL
        and r.start_date > exclusion.first_day
    ]
    if admitted:
        last = min(last, min(admitted) - timedelta(days=1))
    return calendar.school_days(exclusion.first_day, last)


def runs(
    calendar: Calendar,
    exclusions: Iterable[ExclusionFacts],
    until: date,
    rolls: Sequence[RollFacts] = (),
) -> list[Run]:
    """The child's exclusions as runs of consecutive school days."""
    found: list[Run] = []
    for exclusion in sorted(exclusions, key=lambda x: (x.first_day, x.kind != "suspension")):
        days = exclusion_days(calendar, exclusion, until, rolls)
        if not days:
            continue
        current = found[-1] if found else None
        joins = current is not None and days[0] <= calendar.next_school_day(current.days[-1])
        if current is None or not joins:
            current = Run()
            found.append(current)
        current.exclusions.append(exclusion)
        current.days = sorted(set(current.days) | set(days))
        if exclusion.kind == "permanent" and current.permanent_from is None:
            current.permanent_from = days[0]
    return found


def provision(
    day: date,
    placements: Sequence[PlacementFacts],
    rolls: Sequence[RollFacts],
    excluded_from: set[uuid.UUID],
    full_time_hours: Decimal,
) -> Provision:
    """What the child has on a day: a full-time roll at a school it is not excluded from,
    or placements (and a school's part-time hours) adding up to full time, or a
    part-time arrangement agreed as the guidance requires."""
    live_rolls = [
        r
        for r in rolls
        if r.on_roll(day) and r.status in ON_ROLL and r.school_id not in excluded_from
    ]
    live_placements = [p for p in placements if p.active_on(day)]
    hours = sum((p.hours or Decimal(0) for p in live_placements), Decimal(0)) + sum(
        (r.hours for r in live_rolls if r.hours is not None), Decimal(0)
    )
    full_time_roll = any(r.hours is None for r in live_rolls)
    return Provision(
        hours=hours,
        full_time=full_time_roll or hours >= full_time_hours,
        part_time_agreed=any(p.part_time_agreed_on(day) for p in live_placements),
    )


def compulsory_school_age(date_of_birth: date, day: date) -> bool:
    """Education Act 1996 s8 and the Education (Start of Compulsory School Age) Order
    1998: from the prescribed day (31 December, 31 March or 31 August) on or after the
    fifth birthday, to the last Friday of June of the school year in which the child
    turns 16."""
    fifth = _birthday(date_of_birth, 5)
    prescribed = [date(fifth.year, 8, 31), date(fifth.year, 12, 31), date(fifth.year + 1, 3, 31)]
    prescribed.insert(0, date(fifth.year, 3, 31))
    starts = min(d for d in prescribed if d >= fifth)
    sixteenth = _birthday(date_of_birth, 16)
    # the school year running 1 September to 31 August in which the child turns 16
    leaving_year = sixteenth.year if sixteenth.month < 9 else sixteenth.year + 1
    june_end = date(leaving_year, 6, 30)
    last_friday = june_end - timedelta(days=(june_end.weekday() - 4) % 7)
    return starts <= day <= last_friday


def _birthday(date_of_birth: date, years: int) -> date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:  # 29 February: the birthday falls on 1 March in other years
        return date(date_of_birth.year + years, 3, 1)


@dataclass(frozen=True)
class Span:
    """School days in a row without suitable education, for one reason."""

    first: date
    last: date
    school_days: int
    reason: str  # excluded_without_provision | no_school_or_placement
    responsible_id: uuid.UUID


def days_without_education(
    *,
    date_of_birth: date,
    home_la_id: uuid.UUID,
    home_calendar: Calendar,
    exclusion_calendars: dict[uuid.UUID, Calendar],
    exclusions: Sequence[ExclusionFacts],
    placements: Sequence[PlacementFacts],
    rolls: Sequence[RollFacts],
    full_time_hours: Decimal,
    since: date,
    until: date,
) -> list[Span]:
    """Each stretch of school days from `since` to `until` on which the child had no
    suitable education: from the duty day of an exclusion without suitable full-time
    provision, and, for a child of compulsory school age, from the end of its last roll
    or placement while it has neither."""
    duty: dict[date, uuid.UUID] = {}
    excluded: dict[date, set[uuid.UUID]] = {}
    by_school: dict[uuid.UUID, list[ExclusionFacts]] = {}
    for x in exclusions:
        by_school.setdefault(x.school_id, []).append(x)
    for school_id, theirs in by_school.items():
        calendar = exclusion_calendars.get(school_id, home_calendar)
        for run in runs(calendar, theirs, until, rolls):
            for d in run.days:
                excluded.setdefault(d, set()).add(school_id)
            for d in run.duty_days:
                duty[d] = run.holder_on(d, home_la_id)
    ends = [r.end_date for r in rolls if r.end_date is not None] + [
        p.end_date for p in placements if p.end_date is not None
    ]
    spans: list[Span] = []
    broken = True  # a provided school day since the last span's end
    day = since
    while day <= until:
        if day in duty or home_calendar.is_school_day(day):
            reason = _without(
                day,
                duty,
                excluded,
                date_of_birth,
                home_la_id,
                placements,
                rolls,
                ends,
                full_time_hours,
            )
            if reason is None:
                broken = True
            elif not broken and (spans[-1].reason, spans[-1].responsible_id) == reason:
                last = spans[-1]
                spans[-1] = Span(last.first, day, last.school_days + 1, *reason)
            else:
                spans.append(Span(day, day, 1, *reason))
                broken = False
        day += timedelta(days=1)
    return spans


def _without(
    day: date,
    duty: dict[date, uuid.UUID],
    excluded: dict[date, set[uuid.UUID]],
    date_of_birth: date,
    home_la_id: uuid.UUID,
    placements: Sequence[PlacementFacts],
    rolls: Sequence[RollFacts],
    ends: list[date],
    full_time_hours: Decimal,
) -> tuple[str, uuid.UUID] | None:
    """Why the child had no suitable education that school day, and who owed it."""
    out = excluded.get(day, set())
    if day in duty:
        if provision(day, placements, rolls, out, full_time_hours).suitable:
            return None
        return "excluded_without_provision", duty[day]
    if (
        not out
        and not any(r.on_roll(day) for r in rolls)
        and not any(p.active_on(day) for p in placements)
        and any(end < day for end in ends)
        and compulsory_school_age(date_of_birth, day)
    ):
        return "no_school_or_placement", home_la_id
    return None
