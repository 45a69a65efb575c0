"""Outcomes of a placement: progress, accreditations and follow-ups are written through
the placement's own transition (version bump and one event), so they appear in its
history; the outcomes view gathers them with attendance at entry and at exit.

Follow-ups fall due six weeks after the end and at the end of the next term. Term
dates differ between areas and years; the hub uses the nominal ends of the English
school terms (autumn 31 December, spring 31 March, summer 31 July; a placement ending
in the August holiday is next followed up at the end of the autumn term).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Forbidden, Invalid, NotFound
from aphub.models import Accreditation, FollowUp, IntendedOutcome, OutcomeProgress
from aphub.outcomes.schemas import AccreditationIn, FollowUpIn, ProgressIn
from aphub.pagination import decode_cursor, encode_cursor
from aphub.placements.repository import LockedPlacement
from aphub.placements.service import (
    acts_as_commissioner,
    locked,
    require_commissioner,
    require_status,
    transition,
)
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy
from aphub.sharing.relationships import TODAY

SIX_WEEKS = timedelta(weeks=6)
KINDS = ("six_weeks", "next_term_end")


def next_term_end(ended: date) -> date:
    """The end of the term after the one the placement ended in (nominal term ends)."""
    if ended.month >= 9:  # autumn term: next is spring
        return date(ended.year + 1, 3, 31)
    if ended.month <= 3:  # spring: next is summer
        return date(ended.year, 7, 31)
    return date(ended.year, 12, 31)  # summer or the August holiday: next is autumn


def due_on(kind: str, ended: date) -> date:
    try:
        return ended + SIX_WEEKS if kind == "six_weeks" else next_term_end(ended)
    except (OverflowError, ValueError):  # an end recorded at the edge of the calendar
        return date.max


NEXT_TERM_END_SQL = (
    "CASE WHEN extract(month FROM p.actual_end_date) >= 9 "
    "THEN make_date(extract(year FROM p.actual_end_date)::int + 1, 3, 31) "
    "WHEN extract(month FROM p.actual_end_date) <= 3 "
    "THEN make_date(extract(year FROM p.actual_end_date)::int, 7, 31) "
    "ELSE make_date(extract(year FROM p.actual_end_date)::int, 12, 31) END"
)


def _not_future(day: date, field: str) -> date:
    if day > date.today():
        raise Invalid.field(field, f"{field} must not be in the future")
    return day


async def _provider_or_commissioner(
    uow: WriteUnit, principal: Principal, p: LockedPlacement
) -> None:
    if principal.organisation_id != p.provider_id and not await acts_as_commissioner(
        uow, principal, p
    ):
        raise Forbidden("Only the provider, the commissioner or the home LA records this")


async def record_progress(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    outcome_id: uuid.UUID,
    body: ProgressIn,
    if_match: int | None,
) -> uuid.UUID:
    p = await locked(uow, principal, placement_id, if_match)
    await _provider_or_commissioner(uow, principal, p)
    require_status(p, "record progress on", "active", "ended")
    outcome = await uow.session.get(IntendedOutcome, outcome_id)
    if outcome is None or outcome.placement_id != p.id:
        raise NotFound("No such intended outcome of this placement")
    recorded_on = _not_future(body.recorded_on or date.today(), "recorded_on")
    progress = OutcomeProgress(
        placement_id=p.id,
        outcome_id=outcome.id,
        outcome_description=outcome.description,
        rating=body.rating.value,
        evidence=body.evidence,
        recorded_on=recorded_on,
        recorded_by_id=principal.organisation_id,
    )
    uow.session.add(progress)
    await uow.session.flush()
    await transition(
        uow,
        principal,
        p,
        "placement.progress_recorded",
        {
            "progress_id": str(progress.id),
            "outcome_id": str(outcome.id),
            "rating": body.rating.value,
            "recorded_on": recorded_on.isoformat(),
        },
    )
    return progress.id


async def record_accreditation(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: AccreditationIn,
    if_match: int | None,
) -> uuid.UUID:
    p = await locked(uow, principal, placement_id, if_match)
    await _provider_or_commissioner(uow, principal, p)
    require_status(p, "record an accreditation on", "active", "ended")
    awarded_on = _not_future(body.awarded_on, "awarded_on")
    accreditation = Accreditation(
        placement_id=p.id,
        qualification=body.qualification,
        level=body.level.value,
        grade=body.grade,
        awarding_body=body.awarding_body,
        awarded_on=awarded_on,
        recorded_by_id=principal.organisation_id,
    )
    uow.session.add(accreditation)
    await uow.session.flush()
    await transition(
        uow,
        principal,
        p,
        "placement.accreditation_recorded",
        {
            "accreditation_id": str(accreditation.id),
            "qualification": body.qualification,
            "level": body.level.value,
            "grade": body.grade,
            "awarded_on": awarded_on.isoformat(),
        },
    )
    return accreditation.id


async def record_follow_up(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: FollowUpIn,
    if_match: int | None,
) -> uuid.UUID:
    p = await locked(uow, principal, placement_id, if_match)
    await require_commissioner(uow, principal, p)
    require_status(p, "record a follow-up on", "ended")
    assert p.actual_end_date is not None
    recorded_on = _not_future(body.recorded_on or date.today(), "recorded_on")
    if recorded_on < p.actual_end_date:
        raise Invalid.field("recorded_on", "a follow-up is recorded after the placement ended")
    existing = await uow.session.scalar(
        select(FollowUp.id).where(FollowUp.placement_id == p.id, FollowUp.kind == body.kind.value)
    )
    if existing is not None:
        raise Conflict(
            f"The {body.kind.value} follow-up of this placement is already recorded",
            extra={"follow_up_id": str(existing)},
        )
    follow_up = FollowUp(
        placement_id=p.id,
        kind=body.kind.value,
        due_on=due_on(body.kind.value, p.actual_end_date),
        sustained=body.sustained,
        note=body.note,
        recorded_on=recorded_on,
        recorded_by_id=principal.organisation_id,
    )
    uow.session.add(follow_up)
    await uow.session.flush()
    await transition(
        uow,
        principal,
        p,
        "placement.follow_up_recorded",
        {
            "follow_up_id": str(follow_up.id),
            "kind": body.kind.value,
            "sustained": body.sustained,
            "destination": p.destination,
            "recorded_on": recorded_on.isoformat(),
        },
    )
    return follow_up.id


# --- reading ------------------------------------------------------------------------


@cache
def _due_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, ":org::uuid", policy)
    return (
        "WITH due AS (SELECT p.id AS placement_id, p.child_id, k.kind, p.actual_end_date, "
        "p.destination, least(CASE k.kind WHEN 'six_weeks' THEN p.actual_end_date + 42 "
        f"ELSE {NEXT_TERM_END_SQL} END, '9999-12-31'::date) AS due_on "
        "FROM placements p CROSS JOIN (VALUES ('six_weeks'), ('next_term_end')) AS k(kind) "
        f"WHERE p.status = 'ended' AND {visible} AND (p.commissioner_id = :org::uuid "
        "OR EXISTS (SELECT 1 FROM children hc WHERE hc.id = p.child_id "
        "AND hc.home_la_id = :org::uuid)) "
        "AND NOT EXISTS (SELECT 1 FROM placement_follow_ups f WHERE f.placement_id = p.id "
        "AND f.kind = k.kind)) "
        f"SELECT *, due_on < {TODAY} AS overdue FROM due "
        f"WHERE due_on <= {TODAY} + :within_days::int "
        "AND (due_on, placement_id, kind) > (:after_due_on, :after_placement, :after_kind) "
        "ORDER BY due_on, placement_id, kind LIMIT :limit"
    )


async def due_follow_ups(
    uow: ReadUnit, principal: Principal, *, within_days: int, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Follow-ups the caller (commissioner or home LA) has still to record: overdue, or
    due within `within_days`, soonest first."""
    after: tuple[date, uuid.UUID, str] = (date(1900, 1, 1), uuid.UUID(int=0), "")
    values = decode_cursor(cursor, 3)
    if values:
        try:
            after = (date.fromisoformat(str(values[0])), uuid.UUID(str(values[1])), str(values[2]))
        except ValueError:
            raise Invalid.field("cursor", "The cursor is not one this hub issued") from None
    rows = await uow.fetch(
        _due_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        within_days=within_days,
        after_due_on=after[0],
        after_placement=after[1],
        after_kind=after[2],
        limit=limit + 1,
    )
    items = [
        {
            "placement_id": str(r["placement_id"]),
            "child_id": str(r["child_id"]),
            "kind": r["kind"],
            "due_on": r["due_on"].isoformat(),
            "overdue": r["overdue"],
            "actual_end_date": r["actual_end_date"].isoformat(),
            "destination": r["destination"],
        }
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            [last["due_on"].isoformat(), str(last["placement_id"]), last["kind"]]
        )
    return {"items": items, "next_cursor": next_cursor}
