"""What a return is built from: the placements it covers, read with the sharing layer's
placement visibility, the children they concern, read through the gate (audited as an
export, like any read of a child), and the organisations they name.

A return only ever narrows what the caller may already see: the placement condition of
each return is added to the caller's own visibility, never put in its place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import orjson

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.placements.repository import BODY, FROM
from aphub.sharing import gate
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy

ORG = ":org::uuid"
# open at some time in the period: started by its end, not ended before its start
_IN_PERIOD = (
    "p.status IN ('active', 'ended') AND p.start_date <= :census_date "
    "AND (p.actual_end_date IS NULL OR p.actual_end_date >= :period_start)"
)


@cache
def _placements_sql(organisation_type: str, policy: Policy, covers: str) -> str:
    """The placements a return covers, among those the caller may see.

    The AP census: placements the LA arranged, or that it funds for its residents (a
    school's commission paid from the LA's budget or the high needs block). The school
    census module: placements the school itself arranged."""
    visible = placement_visible(organisation_type, ORG, policy)
    if covers == "school_census_ap":
        return (
            f"SELECT {BODY} AS body FROM {FROM} WHERE {visible} AND p.commissioner_id = {ORG} "
            f"AND {_IN_PERIOD} ORDER BY p.child_id, p.start_date, p.id"
        )
    return (
        f"SELECT {BODY} AS body FROM {FROM} WHERE {visible} AND (p.commissioner_id = {ORG} "
        "OR (p.funding->>'source' IN ('local_authority', 'high_needs_block') AND EXISTS "
        f"(SELECT 1 FROM children fc WHERE fc.id = p.child_id AND fc.home_la_id = {ORG}))) "
        f"AND {_IN_PERIOD} ORDER BY p.child_id, p.start_date, p.id"
    )


_ORGANISATIONS = (
    "SELECT o.id, o.type, o.name, o.urn, o.ukprn, o.la_code, o.laestab, "
    "pp.registration_status, pp.census_setting_type FROM organisations o "
    "LEFT JOIN provider_profiles pp ON pp.organisation_id = o.id WHERE o.id = ANY(:ids::uuid[])"
)


@dataclass(frozen=True, slots=True)
class Material:
    placements: list[dict[str, Any]]
    children: dict[uuid.UUID, dict[str, Any]]  # shaped for the caller, by id
    organisations: dict[uuid.UUID, Any]
    caller: Any  # the calling organisation's row


async def gather(
    uow: ReadUnit,
    principal: Principal,
    covers: str,
    *,
    census_date: date,
    period_start: date,
) -> Material:
    rows = await uow.fetch(
        _placements_sql(principal.organisation_type, active_policy(), covers),
        org=principal.organisation_id,
        census_date=census_date,
        period_start=period_start,
    )
    placements = [orjson.loads(r["body"]) for r in rows]
    child_ids = sorted({uuid.UUID(p["child_id"]) for p in placements})
    children = await gate.read_children_by_ids(uow, principal, child_ids, surface="export")
    wanted = {principal.organisation_id} | {uuid.UUID(p["provider_id"]) for p in placements}
    organisations = {r["id"]: r for r in await uow.fetch(_ORGANISATIONS, ids=sorted(wanted))}
    return Material(
        placements=placements,
        children=children,
        organisations=organisations,
        caller=organisations[principal.organisation_id],
    )


def plain(value: Any) -> Any:
    """A shaped child's value as Python (enrolments may arrive as a JSON fragment)."""
    return orjson.loads(orjson.dumps(value)) if isinstance(value, orjson.Fragment) else value
