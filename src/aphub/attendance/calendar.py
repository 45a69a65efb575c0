"""The school-day calendar: weekdays, less England's bank holidays (from the `holidays`
package, which follows the published gov.uk list, substitute days included) and the
holidays and closures a local authority configured (its term breaks, INSET and closure
days).

Concerns about a child are computed on the calendar of the child's home local authority
(the authority responsible for the child's education, and one of the two receivers of
every concern). A return for a school day is due by 10:00 on the next school day.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays as holiday_calendars

from aphub.db import ReadUnit

RETURN_BY = time(10, 0)
_SEARCH_DAYS = 400  # a calendar with a longer holiday than this is not a school calendar


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays of a year (substitute days included)."""
    return frozenset(holiday_calendars.country_holidays("GB", subdiv="ENG", years=year))


@dataclass(frozen=True)
class Calendar:
    holidays: tuple[tuple[date, date], ...] = field(default_factory=tuple)

    def is_school_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in bank_holidays(day.year)
            and not any(lo <= day <= hi for lo, hi in self.holidays)
        )

    def nth_school_day(self, first: date, n: int) -> date:
        """The n-th school day counting from `first` (which counts as the first when it is
        a school day): `nth_school_day(d, 6)` is the sixth school day of a period from d."""
        day, seen = first, 0
        for _ in range(n * 7 + _SEARCH_DAYS):
            if self.is_school_day(day):
                seen += 1
                if seen == n:
                    return day
            day += timedelta(days=1)
        return day

    def count_school_days(self, first: date, last: date) -> int:
        """School days from `first` to `last`, both included (0 when last < first)."""
        return len(self.school_days(first, last))

    def next_school_day(self, day: date) -> date:
        for offset in range(1, _SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_school_day(candidate):
                return candidate
        return day + timedelta(days=_SEARCH_DAYS)

    def deadline(self, day: date) -> datetime:
        """When the return for `day` is due: 10:00 (local time) the next school day."""
        return datetime.combine(self.next_school_day(day), RETURN_BY)

    def school_days(self, first: date, last: date) -> list[date]:
        days = []
        day = first
        while day <= last:
            if self.is_school_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def last_complete_week_end(self, as_of: datetime) -> date | None:
        """The last school day of the latest school week whose returns are all due by
        `as_of` (the end of the window for the six-week attendance concerns)."""
        day = as_of.date()
        for _ in range(_SEARCH_DAYS):
            if self.is_school_day(day) and self.deadline(day) <= as_of:
                following = self.next_school_day(day)
                if following.isocalendar()[:2] != day.isocalendar()[:2]:
                    return day
            day -= timedelta(days=1)
        return None


async def calendars(
    uow: ReadUnit, la_ids: list[uuid.UUID], since: date
) -> dict[uuid.UUID, Calendar]:
    """The calendars of these local authorities, with holidays ending on or after `since`."""
    rows = await uow.fetch(
        "SELECT la_id, from_date, to_date FROM school_holidays "
        "WHERE la_id = ANY(:la_ids::uuid[]) AND to_date >= :since ORDER BY la_id, from_date",
        la_ids=la_ids,
        since=since,
    )
    holidays: dict[uuid.UUID, list[tuple[date, date]]] = defaultdict(list)
    for r in rows:
        holidays[r["la_id"]].append((r["from_date"], r["to_date"]))
    return {la: Calendar(tuple(holidays.get(la, ()))) for la in la_ids}
