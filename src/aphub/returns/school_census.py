"""The school census module of alternative provision placements arranged by schools: one
record for each off-site placement the school arranged that was open at some time from
`period_start` (the day after the previous census day) to census day (S22, S24).

The hub serves the module's rows for the school's MIS to load into its census; the rest
of the school census comes from the MIS. Placements another body arranged (the LA, the
school's trust) are that body's to return, not the school's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import Forbidden, Invalid
from aphub.returns import collect
from aphub.returns.rows import (
    child_items,
    finish,
    header_values,
    header_warnings,
    hidden,
    provider_of,
    setting_items,
    text,
)
from aphub.returns.spec import SCHOOL_CENSUS_AP, specification

SETTING = ("APPlacementURN", "APPlacementUKPRN", "APSettingType")
# without a period, a term back: placements ended since about the previous census day
DEFAULT_PERIOD = timedelta(weeks=20)


async def school_census_ap(
    uow: ReadUnit, principal: Principal, census_date: date, period_start: date | None
) -> dict[str, Any]:
    if principal.organisation_type != "school":
        raise Forbidden("The school census AP module is a school's return")
    start = period_start or census_date - DEFAULT_PERIOD
    if start > census_date:
        raise Invalid.field("period_start", "period_start must not be after census_date")
    if (census_date - start).days > 366:
        raise Invalid.field("period_start", "the period is at most a year")
    spec = specification(SCHOOL_CENSUS_AP)
    material = await collect.gather(
        uow, principal, "school_census_ap", census_date=census_date, period_start=start
    )
    rows: list[dict[str, Any]] = []
    exceptions: list[dict[str, Any]] = []
    for placement in material.placements:
        child = material.children.get(uuid.UUID(placement["child_id"]))
        if child is None:
            exceptions.append(hidden(placement["child_id"], placement))
            continue
        pupil = child_items(child)
        items = {
            **{e: pupil[e] for e in ("UPN", "Surname", "Forename", "DOB")},
            **setting_items(provider_of(material.organisations, placement), SETTING),
            "APReason": placement["primary_reason"],
            "APEntryDate": placement["start_date"],
            "APLeavingDate": text(placement["actual_end_date"]),
            "APHoursPerWeek": text(placement["hours_per_week"]),
        }
        finish(
            spec,
            items,
            child_id=placement["child_id"],
            placement_id=placement["id"],
            others=[],
            rows=rows,
            exceptions=exceptions,
        )
    warnings = []
    if period_start is None:
        warnings.append(
            f"period_start not given: placements open from {start.isoformat()} "
            "(20 weeks before census_date); give the day after the previous census day"
        )
    header = header_values(spec, material.caller, census_date)
    warnings += header_warnings(spec, header)
    return {
        "return": "school_census_ap",
        "census_date": census_date,
        "period_start": start,
        "computed_at": datetime.now(UTC),
        "specification": spec.describe(),
        "header": header,
        "warnings": warnings,
        "rows": rows,
        "exceptions": exceptions,
    }
