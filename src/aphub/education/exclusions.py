"""Exclusions as records: posted by the school that excludes (or its trust, for one of its
academies), with the outcome of the reviews that follow. Category `education`, visible
under the same rules as the child; each change is an event.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.education.schemas import NEXT_STATUS, ExclusionCreate, ExclusionStatusChange
from aphub.errors import Conflict, Forbidden, Invalid, NotFound
from aphub.events.log import Actor, record
from aphub.ids import uuid7
from aphub.sharing import gate
from aphub.sharing.policy import Decision

ENGLAND = ZoneInfo("Europe/London")
_COLUMNS = (
    "x.id, x.child_id, x.school_id, s.name AS school_name, x.kind, x.first_day, "
    "x.school_days, x.reasons, x.status, x.status_on, x.converted_from_id, "
    "x.recorded_by_id, x.version, x.created_at"
)
_OF_CHILDREN = (
    f"SELECT {_COLUMNS} FROM exclusions x JOIN organisations s ON s.id = x.school_id "
    "WHERE x.child_id = ANY(:ids::uuid[]) ORDER BY x.first_day DESC, x.id DESC"
)
_ONE = (
    f"SELECT {_COLUMNS} FROM exclusions x JOIN organisations s ON s.id = x.school_id "
    "WHERE x.id = :id AND x.child_id = :child_id FOR UPDATE OF x"
)
# the excluding school, as the caller names it: a school, and whether the caller is it
# or its trust
_SCHOOL = "SELECT id, type, trust_id, name FROM organisations WHERE id = :id AND active"
_FACTS = (
    "SELECT c.date_of_birth, EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = c.id "
    "AND e.school_id = :school_id AND e.start_date <= :first_day "
    "AND (e.end_date IS NULL OR e.end_date >= :first_day)) AS on_roll, "
    "EXISTS (SELECT 1 FROM exclusions x WHERE x.child_id = c.id AND x.school_id = :school_id "
    "AND x.kind = :kind AND x.first_day = :first_day) AS duplicate "
    "FROM children c WHERE c.id = :child_id"
)
_CONVERTED = "SELECT kind, school_id FROM exclusions WHERE id = :id AND child_id = :child_id"
_INSERT = (
    "INSERT INTO exclusions (id, child_id, school_id, kind, first_day, school_days, reasons, "
    "converted_from_id, recorded_by_id) VALUES (:id, :child_id, :school_id, :kind, "
    ":first_day, :school_days, :reasons, :converted_from_id, :recorded_by_id)"
)
_STATUS = (
    "UPDATE exclusions SET status = :status, status_on = :on, version = version + 1, "
    "updated_at = now() WHERE id = :id"
)


def england_today() -> date:
    return datetime.now(ENGLAND).date()


def view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "child_id": row["child_id"],
        "school_id": row["school_id"],
        "school_name": row["school_name"],
        "kind": row["kind"],
        "first_day": row["first_day"],
        "school_days": row["school_days"],
        "reasons": list(row["reasons"]),
        "status": row["status"],
        "status_on": row["status_on"],
        "converted_from_id": row["converted_from_id"],
        "recorded_by_id": row["recorded_by_id"],
        "version": row["version"],
        "created_at": row["created_at"],
    }


def require_education(decision: Decision) -> None:
    if not decision.can_read("education"):
        raise Forbidden("Your sharing agreement does not let you read this child's education")


async def _excluding_school(uow: ReadUnit, principal: Principal, school_id: uuid.UUID) -> Any:
    """The school named, which must be the caller or one of the caller's academies."""
    school = await uow.fetchrow(_SCHOOL, id=school_id)
    if school is None or school["type"] != "school":
        raise Invalid.field("school_id", "school_id must name a school in the hub")
    caller = principal.organisation_id
    if school["id"] != caller and school["trust_id"] != caller:
        raise Forbidden("Only the excluding school, or its trust, records its exclusions")
    return school


async def record_exclusion(
    uow: WriteUnit, principal: Principal, child_id: uuid.UUID, body: ExclusionCreate
) -> dict[str, Any]:
    decision = await gate.decide(uow, principal, child_id)
    require_education(decision)
    school_id = body.school_id
    if school_id is None:
        if principal.organisation_type != "school":
            raise Invalid.field("school_id", "name the academy that excludes")
        school_id = principal.organisation_id
    school = await _excluding_school(uow, principal, school_id)
    facts = await uow.fetchrow(
        _FACTS,
        child_id=child_id,
        school_id=school_id,
        kind=body.kind.value,
        first_day=body.first_day,
    )
    if body.first_day < facts["date_of_birth"]:
        raise Invalid.field("first_day", "first_day is before the child's date of birth")
    if body.first_day > england_today() + timedelta(days=1):
        raise Invalid.field("first_day", "first_day is more than a day ahead: record it then")
    if not facts["on_roll"]:
        raise Invalid.field(
            "school_id", f"the child is not on the roll of {school['name']} on {body.first_day}"
        )
    if facts["duplicate"]:
        raise Conflict("This exclusion is recorded already (same school, kind and first day)")
    if body.converted_from_id is not None:
        converted = await uow.fetchrow(_CONVERTED, id=body.converted_from_id, child_id=child_id)
        if converted is None or converted["kind"] != "suspension":
            raise Invalid.field("converted_from_id", "must name a suspension of this child")
        if converted["school_id"] != school_id:
            raise Invalid.field("converted_from_id", "the suspension is from another school")
    exclusion_id = uuid7()
    await uow.execute(
        _INSERT,
        id=exclusion_id,
        child_id=child_id,
        school_id=school_id,
        kind=body.kind.value,
        first_day=body.first_day,
        school_days=body.school_days,
        reasons=body.reasons,
        converted_from_id=body.converted_from_id,
        recorded_by_id=principal.organisation_id,
    )
    record(
        uow,
        type="exclusion.recorded",
        subject_type="exclusion",
        subject_id=exclusion_id,
        subject_version=1,
        child_id=child_id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data={
            "school_id": str(school_id),
            "kind": body.kind.value,
            "first_day": body.first_day.isoformat(),
            "school_days": str(body.school_days) if body.school_days is not None else None,
            "reasons": body.reasons,
        },
    )
    row = await uow.fetchrow(_ONE, id=exclusion_id, child_id=child_id)
    return view(row)


async def change_status(
    uow: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    exclusion_id: uuid.UUID,
    body: ExclusionStatusChange,
) -> dict[str, Any]:
    """The outcome of a review: recorded by the excluding school, its trust, or the
    child's home LA (which arranges the independent review panel for maintained
    schools)."""
    decision = await gate.decide(uow, principal, child_id)
    require_education(decision)
    row = await uow.fetchrow(_ONE, id=exclusion_id, child_id=child_id)
    if row is None:
        raise NotFound("No such exclusion for this child")
    if "la_home" not in decision.rules:
        await _excluding_school(uow, principal, row["school_id"])
    if body.status.value not in NEXT_STATUS[row["status"]]:
        allowed = ", ".join(NEXT_STATUS[row["status"]]) or "nothing"
        raise Conflict(
            f"An exclusion that is {row['status']} cannot become {body.status.value} "
            f"(it may become: {allowed})"
        )
    if body.on < row["first_day"]:
        raise Invalid.field("on", "on is before the exclusion's first day")
    if body.on > england_today():
        raise Invalid.field("on", "on is in the future: record the decision when it is made")
    await uow.execute(_STATUS, status=body.status.value, on=body.on, id=exclusion_id)
    record(
        uow,
        type="exclusion.status_changed",
        subject_type="exclusion",
        subject_id=exclusion_id,
        subject_version=row["version"] + 1,
        child_id=child_id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data={"status": body.status.value, "on": body.on.isoformat()},
    )
    return view(await uow.fetchrow(_ONE, id=exclusion_id, child_id=child_id))


async def list_exclusions(
    uow: ReadUnit, principal: Principal, child_id: uuid.UUID, surface: str = "rest"
) -> list[dict[str, Any]]:
    """The child's exclusions, newest first; audited as action `exclusions`."""
    decision = await gate.decide_audited(
        uow, principal, child_id, action="exclusions", surface=surface
    )
    require_education(decision)
    return (await exclusions_of_children(uow, [child_id]))[child_id]


async def exclusions_of_children(
    uow: ReadUnit, child_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """For children the sharing layer has already shown the caller with `education`
    (GraphQL's `Child.exclusions`): one statement for a page."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {c: [] for c in child_ids}
    for row in await uow.fetch(_OF_CHILDREN, ids=child_ids):
        found[row["child_id"]].append(view(row))
    return found
