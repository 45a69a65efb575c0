"""The day arithmetic of the sixth-day duty, on England's school calendar: weekends, bank
holidays (substitute days included), a local authority's term breaks and closure days."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from aphub.attendance.calendar import Calendar, bank_holidays
from aphub.education.duty import (
    ExclusionFacts,
    PlacementFacts,
    RollFacts,
    compulsory_school_age,
    days_without_education,
    runs,
)

SCHOOL = uuid.uuid4()
HOME_LA = uuid.uuid4()
ENGLAND = Calendar()
# an LA calendar: October half term 2026, and a closure day (INSET) on 16 November 2026
AREA = Calendar(
    ((date(2026, 10, 26), date(2026, 10, 30)), (date(2026, 11, 16), date(2026, 11, 16)))
)


def suspension(first: date, days: float, **fields: object) -> ExclusionFacts:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "kind": "suspension",
        "school_id": SCHOOL,
        "first_day": first,
        "school_days": Decimal(str(days)),
        "status": "in_force",
        "status_on": None,
    }
    values.update(fields)
    return ExclusionFacts(**values)  # type: ignore[arg-type]


def permanent(first: date, **fields: object) -> ExclusionFacts:
    return suspension(first, 1, kind="permanent", school_days=None, **fields)


def duty_days(calendar: Calendar, *exclusions: ExclusionFacts) -> list[date | None]:
    return [r.duty_day for r in runs(calendar, exclusions, until=date(2027, 12, 31))]


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # early May
        date(2026, 5, 25),  # spring
        date(2026, 8, 31),  # summer
        date(2026, 12, 25),
        date(2026, 12, 28),  # Boxing Day falls on a Saturday: Monday is the substitute
        date(2027, 1, 1),
        date(2027, 3, 26),
        date(2027, 3, 29),
        date(2027, 5, 3),
        date(2027, 5, 31),
        date(2027, 8, 30),
        date(2027, 12, 27),  # Christmas and Boxing Day on a weekend: both substituted
        date(2027, 12, 28),
    ],
)
def test_england_bank_holidays_of_2026_and_2027_are_not_school_days(day: date) -> None:
    assert day in bank_holidays(day.year)
    assert not ENGLAND.is_school_day(day)


def test_the_sixth_day_skips_the_weekend_and_a_bank_holiday() -> None:
    # Thu 30 Apr, Fri 1 May, [Mon 4 May bank holiday], Tue 5, Wed 6, Thu 7, Fri 8
    assert duty_days(ENGLAND, suspension(date(2026, 4, 30), 6)) == [date(2026, 5, 8)]


def test_the_sixth_day_skips_the_las_half_term_and_closure_day() -> None:
    # Thu 22, Fri 23 Oct, [half term 26-30], Mon 2, Tue 3, Wed 4, Thu 5 Nov
    assert duty_days(AREA, suspension(date(2026, 10, 22), 6)) == [date(2026, 11, 5)]
    # Thu 12, Fri 13, [closure Mon 16], Tue 17, Wed 18, Thu 19, Fri 20 Nov
    assert duty_days(AREA, suspension(date(2026, 11, 12), 6)) == [date(2026, 11, 20)]
    # the same suspension on England's calendar alone runs through the half term
    assert duty_days(ENGLAND, suspension(date(2026, 10, 22), 6)) == [date(2026, 10, 29)]


def test_christmas_2026_and_easter_2027() -> None:
    # Mon 21, Tue 22, Wed 23, Thu 24, [25 and 28 Dec], Tue 29, Wed 30 Dec
    assert duty_days(ENGLAND, permanent(date(2026, 12, 21))) == [date(2026, 12, 30)]
    # Wed 24, Thu 25 Mar, [Good Friday, Easter Monday], Tue 30, Wed 31, Thu 1, Fri 2 Apr
    assert duty_days(ENGLAND, suspension(date(2027, 3, 24), 8)) == [date(2027, 4, 2)]


def test_a_suspension_of_exactly_five_days_owes_nothing() -> None:
    assert duty_days(ENGLAND, suspension(date(2026, 6, 8), 5)) == [None]
    assert duty_days(ENGLAND, suspension(date(2026, 6, 8), 5.5)) == [date(2026, 6, 15)]


def test_two_consecutive_suspensions_of_three_days_owe_from_the_sixth_day() -> None:
    # Mon 8-Wed 10 June, then Thu 11, Fri 12, Mon 15: the sixth is Monday 15 June
    first, second = suspension(date(2026, 6, 8), 3), suspension(date(2026, 6, 11), 3)
    (run,) = runs(ENGLAND, [second, first], until=date(2026, 12, 31))
    assert run.duty_day == date(2026, 6, 15)
    assert run.holder_on(date(2026, 6, 15), HOME_LA) == SCHOOL
    # back to back over a weekend still counts together
    assert duty_days(
        ENGLAND, suspension(date(2026, 6, 10), 3), suspension(date(2026, 6, 15), 3)
    ) == [date(2026, 6, 17)]
    # a school day between them breaks the run
    assert duty_days(
        ENGLAND, suspension(date(2026, 6, 8), 3), suspension(date(2026, 6, 12), 3)
    ) == [None, None]


def test_a_suspension_turned_permanent_carries_its_days_into_the_las_duty() -> None:
    # suspended Mon-Wed 8-10 June, permanently excluded from Thursday: day 6 is Mon 15
    (run,) = runs(
        ENGLAND,
        [suspension(date(2026, 6, 8), 3), permanent(date(2026, 6, 11))],
        until=date(2026, 7, 1),
    )
    assert run.duty_day == date(2026, 6, 15)
    assert run.holder_on(date(2026, 6, 15), HOME_LA) == HOME_LA
    assert run.holder_on(date(2026, 6, 9), HOME_LA) == SCHOOL


def test_a_reinstated_or_withdrawn_exclusion_stops_counting() -> None:
    reinstated = permanent(date(2026, 6, 8), status="reinstated", status_on=date(2026, 6, 11))
    assert duty_days(ENGLAND, reinstated) == [None]
    upheld = permanent(date(2026, 6, 8), status="upheld", status_on=date(2026, 6, 11))
    assert duty_days(ENGLAND, upheld) == [date(2026, 6, 15)]


def test_a_permanent_exclusion_ends_when_another_school_admits_the_child() -> None:
    admitted = RollFacts(uuid.uuid4(), uuid.uuid4(), "C", date(2026, 6, 22), None)
    (run,) = runs(ENGLAND, [permanent(date(2026, 6, 8))], date(2026, 7, 10), [admitted])
    assert run.days[-1] == date(2026, 6, 19)


@pytest.mark.parametrize(
    ("born", "day", "expected"),
    [
        (date(2021, 1, 15), date(2026, 3, 30), False),  # five in January: from 31 March
        (date(2021, 1, 15), date(2026, 3, 31), True),
        (date(2021, 3, 31), date(2026, 3, 31), True),  # five on a prescribed day
        (date(2021, 9, 1), date(2026, 12, 30), False),
        (date(2021, 9, 1), date(2026, 12, 31), True),
        (date(2010, 7, 1), date(2026, 6, 26), True),  # turns 16 in July 2026
        (date(2010, 7, 1), date(2026, 6, 29), False),  # after the last Friday of June
        (date(2010, 9, 1), date(2027, 6, 25), True),  # 16 in September: one more year
        (date(2010, 9, 1), date(2027, 6, 28), False),
    ],
)
def test_compulsory_school_age(born: date, day: date, expected: bool) -> None:
    assert compulsory_school_age(born, day) is expected


def test_days_without_education_count_from_the_duty_day_until_provision_starts() -> None:
    excluded = permanent(date(2026, 6, 8))
    placement = PlacementFacts(
        uuid.uuid4(), HOME_LA, "active", date(2026, 6, 22), None, Decimal(25)
    )
    roll = RollFacts(uuid.uuid4(), SCHOOL, "C", date(2022, 9, 1), None)
    spans = days_without_education(
        date_of_birth=date(2012, 3, 4),
        home_la_id=HOME_LA,
        home_calendar=ENGLAND,
        exclusion_calendars={SCHOOL: ENGLAND},
        exclusions=[excluded],
        placements=[placement],
        rolls=[roll],
        full_time_hours=Decimal(25),
        since=date(2026, 6, 1),
        until=date(2026, 6, 30),
    )
    # day 6 is Mon 15 June; the placement starts Mon 22: five school days without
    assert [(s.first, s.last, s.school_days, s.reason) for s in spans] == [
        (date(2026, 6, 15), date(2026, 6, 19), 5, "excluded_without_provision")
    ]
    assert spans[0].responsible_id == HOME_LA


def test_days_without_a_roll_or_placement_count_after_the_last_one_ends() -> None:
    roll = RollFacts(uuid.uuid4(), SCHOOL, "C", date(2022, 9, 1), date(2026, 6, 12))
    spans = days_without_education(
        date_of_birth=date(2012, 3, 4),
        home_la_id=HOME_LA,
        home_calendar=ENGLAND,
        exclusion_calendars={},
        exclusions=[],
        placements=[],
        rolls=[roll],
        full_time_hours=Decimal(25),
        since=date(2026, 6, 1),
        until=date(2026, 6, 19),
    )
    assert [(s.first, s.last, s.school_days, s.reason) for s in spans] == [
        (date(2026, 6, 15), date(2026, 6, 19), 5, "no_school_or_placement")
    ]
