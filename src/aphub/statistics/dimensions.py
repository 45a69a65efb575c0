"""What the statistics count by: each dimension's definition, its categories (fixed,
so an empty category is shown as 0 rather than missing) and the SQL expression that puts
each child of the population (`aphub.sharing.aggregates`) in exactly one of them.

One category per child per dimension keeps every table additive (cells sum to the LA's
population, the same in every table), which disclosure control relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from aphub.children.schemas import SenProvision, YearGroup
from aphub.models.providers import RegistrationStatus
from aphub.placements.schemas import Destination, PrimaryReason

UNKNOWN = "unknown"


class Dimension(StrEnum):
    """What a statistics table counts children by."""

    local_authority = "local_authority"
    provider_type = "provider_type"
    registration = "registration"
    reason = "reason"
    sen_provision = "sen_provision"
    year_group = "year_group"
    attendance_band = "attendance_band"
    destination = "destination"
    month = "month"


@dataclass(frozen=True)
class Definition:
    description: str
    expression: str  # over population row `pop`; None for the LA dimension
    categories: tuple[str, ...] = ()
    attendance: bool = False  # needs the attendance columns


_BAND = (
    "CASE WHEN pop.possible = 0 THEN 'no_sessions_recorded' "
    "WHEN pop.attended * 100 < pop.possible * 50 THEN 'under_50' "
    "WHEN pop.attended * 100 < pop.possible * 90 THEN '50_to_90' "
    "ELSE '90_and_over' END"
)
REGISTERED = tuple(s.value for s in RegistrationStatus if s is not RegistrationStatus.unregistered)

DEFINITIONS: dict[Dimension, Definition] = {
    Dimension.local_authority: Definition(
        "Children in AP during the period, by home local authority.", "pop.home_la_id::text"
    ),
    Dimension.provider_type: Definition(
        "Children in AP during the period, by the registration of the provider of their most "
        "recent placement in it (`unknown`: the provider has no directory entry).",
        f"coalesce(pop.registration_status, '{UNKNOWN}')",
        (*(s.value for s in RegistrationStatus), UNKNOWN),
    ),
    Dimension.registration: Definition(
        "Children in AP during the period, by whether the provider of their most recent "
        "placement in it is registered (a school, academy, PRU or college) or not.",
        "CASE WHEN pop.registration_status = 'unregistered' THEN 'unregistered' "
        "WHEN pop.registration_status IN ("
        + ", ".join(f"'{s}'" for s in REGISTERED)
        + f") THEN 'registered' ELSE '{UNKNOWN}' END",
        ("registered", "unregistered", UNKNOWN),
    ),
    Dimension.reason: Definition(
        "Children in AP during the period, by the primary reason for their most recent "
        "placement in it.",
        "pop.primary_reason",
        tuple(r.value for r in PrimaryReason),
    ),
    Dimension.sen_provision: Definition(
        "Children in AP during the period, by SEN provision as the hub holds it now.",
        "pop.sen_provision",
        tuple(s.value for s in SenProvision),
    ),
    Dimension.year_group: Definition(
        "Children in AP during the period, by national curriculum year group as the hub "
        "holds it now.",
        f"coalesce(pop.year_group, '{UNKNOWN}')",
        (*(y.value for y in YearGroup), UNKNOWN),
    ),
    Dimension.attendance_band: Definition(
        "Children in AP during the period, by attendance over it across all their "
        "placements (sessions attended, present or late, out of sessions possible): "
        "90% and over, 50% to under 90% (persistent absence), under 50% (severe absence), "
        "or no sessions recorded.",
        _BAND,
        ("90_and_over", "50_to_90", "under_50", "no_sessions_recorded"),
        attendance=True,
    ),
    Dimension.destination: Definition(
        "Children in AP during the period, by the destination recorded when their most "
        "recent placement in it ended (`in_placement`: not ended by the end of the period).",
        "CASE WHEN pop.actual_end_date IS NULL OR pop.actual_end_date > :period_end "
        f"THEN 'in_placement' ELSE coalesce(pop.destination, '{UNKNOWN}') END",
        ("in_placement", *(d.value for d in Destination)),
    ),
    Dimension.month: Definition(
        "Children in AP during the period, by the month their most recent placement in it "
        "started (`before_period`: it started before the period).",
        "CASE WHEN pop.start_date < :period_start THEN 'before_period' "
        "ELSE to_char(pop.start_date, 'YYYY-MM') END",
    ),
}


def month_categories(start: date, end: date) -> tuple[str, ...]:
    """`before_period`, then every month of the period."""
    months = ["before_period"]
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)
