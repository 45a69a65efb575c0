"""The AP census: the local authority's annual return of the children whose alternative
provision it arranges or funds, one record per child for the latest or last placement in
the census period (S11), from the specification held in `aphub/reference/census/`.

Which children (S4, 2025 wording; the 2026 text could not be read): aged 2 to 18, i.e.
born from 1 September of the census year less 20 to 31 December of the census year less
3. Children outside that span are listed as out of scope, not left out unseen; children
whose record cannot complete the return are listed with what is missing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import Forbidden
from aphub.returns import collect
from aphub.returns.rows import (
    child_items,
    finish,
    header_values,
    header_warnings,
    hidden,
    in_period,
    provider_of,
    setting_items,
    text,
)
from aphub.returns.spec import AP_CENSUS, specification

SETTING = ("PlacementURN", "PlacementUKPRN", "APSettingType")


def third_thursday_of_january(year: int) -> date:
    """Census day (S6: the third Thursday in January)."""
    first = date(year, 1, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 14)


def period_start(census_date: date) -> date:
    """The day after the previous census day (S7: 20 January 2023 to 18 January 2024)."""
    return third_thursday_of_january(census_date.year - 1) + timedelta(days=1)


def in_age_scope(born: date, census_date: date) -> bool:
    year = census_date.year
    return date(year - 20, 9, 1) <= born <= date(year - 3, 12, 31)


def _latest(placements: list[dict[str, Any]], census_date: date) -> dict[str, Any]:
    """The placement the census records: the current one on census day (the latest
    started, if several), else the last to end (S11)."""
    current = [p for p in placements if in_period(p, census_date)]
    if current:
        return max(current, key=lambda p: (p["start_date"], p["id"]))
    return max(placements, key=lambda p: (p["actual_end_date"] or "", p["start_date"], p["id"]))


async def ap_census(uow: ReadUnit, principal: Principal, census_date: date) -> dict[str, Any]:
    if principal.organisation_type != "local_authority":
        raise Forbidden("The AP census is a local authority's return")
    spec = specification(AP_CENSUS)
    start = period_start(census_date)
    material = await collect.gather(
        uow, principal, "ap_census", census_date=census_date, period_start=start
    )
    by_child: dict[str, list[dict[str, Any]]] = {}
    for placement in material.placements:
        by_child.setdefault(placement["child_id"], []).append(placement)
    rows: list[dict[str, Any]] = []
    exceptions: list[dict[str, Any]] = []
    for child_id, placements in by_child.items():
        chosen = _latest(placements, census_date)
        others = sorted(p["id"] for p in placements if p is not chosen)
        child = material.children.get(uuid.UUID(child_id))
        if child is None:
            exceptions.append(hidden(child_id, chosen))
            continue
        if not in_age_scope(date.fromisoformat(str(child["date_of_birth"])), census_date):
            exceptions.append(
                {
                    "child_id": child_id,
                    "placement_id": chosen["id"],
                    "kind": "out_of_scope",
                    "reasons": ["aged outside 2 to 18 for this census (S4): not returned"],
                    "actions": [],
                }
            )
            continue
        items = child_items(child) | {
            **setting_items(provider_of(material.organisations, chosen), SETTING),
            "PlacementReason": chosen["primary_reason"],
            "PlacementStartDate": chosen["start_date"],
            "PlacementEndDate": text(chosen["actual_end_date"]),
        }
        finish(
            spec,
            items,
            child_id=child_id,
            placement_id=chosen["id"],
            others=others,
            rows=rows,
            exceptions=exceptions,
        )
    warnings = []
    if census_date != third_thursday_of_january(census_date.year):
        warnings.append(
            f"census_date is not census day (the third Thursday in January: "
            f"{third_thursday_of_january(census_date.year).isoformat()})"
        )
    header = header_values(spec, material.caller, census_date)
    warnings += header_warnings(spec, header)
    return {
        "return": "ap_census",
        "census_date": census_date,
        "period_start": start,
        "computed_at": datetime.now(UTC),
        "specification": spec.describe(),
        "header": header,
        "warnings": warnings,
        "rows": rows,
        "exceptions": exceptions,
    }
