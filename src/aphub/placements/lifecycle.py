"""The placement lifecycle: requested → offered → active → ended, with declined and
cancelled. Illegal transitions are 409; a missing requirement is 422 naming it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select

from aphub import registration
from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.db.sql import from_core
from aphub.errors import FieldError, Invalid
from aphub.placements.repository import LockedPlacement
from aphub.placements.schemas import (
    EndAction,
    ExtendAction,
    OfferAction,
    ProposeEndAction,
    ReasonAction,
    StartAction,
)
from aphub.placements.service import (
    Alongside,
    locked,
    require_commissioner,
    require_provider,
    require_status,
    transition,
)
from aphub.sharing.policy import active_policy


async def offer(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: OfferAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    require_provider(principal, p)
    require_status(p, "offer", "requested")
    if body.offer_id is not None:
        p.offer_id = body.offer_id
    if body.delivery_location_ids is not None:
        p.delivery_location_ids = list(body.delivery_location_ids)
    p.status = "offered"
    await transition(uow, principal, p, "placement.offered", {"note": body.note}, answers=200)
    return p


async def decline(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ReasonAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    require_provider(principal, p)
    require_status(p, "decline", "requested")
    p.status = "declined"
    p.closing_note = body.reason
    await transition(uow, principal, p, "placement.declined", {"reason": body.reason}, answers=200)
    return p


async def cancel(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ReasonAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    await require_commissioner(uow, principal, p)
    require_status(p, "cancel", "requested", "offered")
    p.status = "cancelled"
    p.closing_note = body.reason
    await transition(uow, principal, p, "placement.cancelled", {"reason": body.reason}, answers=200)
    return p


async def lock_provider_starts(uow: WriteUnit, provider_id: uuid.UUID) -> None:
    """Serialise starts at one unregistered provider until commit: the threshold counts
    committed active placements, so two starts checked side by side could both pass
    and together cross it. Taken after the placement's row lock, the order every
    transition takes its locks in."""
    await uow.execute(_STARTS_LOCK, lock=f"placement-starts:{provider_id}")


_STARTS_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"
_FLAGGED_CHILD = (
    "SELECT looked_after OR sen_provision = 'ehcp' AS flagged FROM children WHERE id = :child_id"
)


@cache
def _counts() -> tuple[str, dict[str, Any]]:
    """The registration counts (`registration.counts`, which the directory's alert uses
    too) as a statement: the SQL, and the values it binds itself."""
    pupils, flagged = registration.counts(bindparam("provider_id", None))
    return from_core(select(pupils.label("pupils"), flagged.label("flagged")))


async def threshold_breach(
    uow: WriteUnit, provider_id: uuid.UUID, adding: LockedPlacement | None = None
) -> str | None:
    """Why an unregistered provider would be over the registration threshold, or None."""
    sql, values = _counts()
    row = await uow.fetchrow(sql, **{**values, "provider_id": provider_id})
    pupils, flagged = row["pupils"], row["flagged"]
    if adding is not None and (adding.hours_per_week or 0) >= registration.FULL_TIME_HOURS:
        pupils += 1
        child = await uow.fetchrow(_FLAGGED_CHILD, child_id=adding.child_id)
        if child is not None and child["flagged"]:
            flagged += 1
    return registration.breach(pupils, flagged)


_START_FACTS = (
    "SELECT (SELECT count(*) FROM intended_outcomes WHERE placement_id = :placement_id) "
    "AS outcomes, pp.registration_status, pp.qa_status, "
    # the child's other provision: its active placements and a school's part-time roll
    "(SELECT coalesce(sum(o.hours_per_week), 0) FROM placements o WHERE o.child_id = :child_id "
    "AND o.status = 'active' AND o.id <> :placement_id) + (SELECT "
    "coalesce(sum(e.hours_per_week), 0) FROM enrolments e WHERE e.child_id = :child_id "
    "AND e.start_date <= :start_date AND (e.end_date IS NULL OR e.end_date >= :start_date)) "
    "AS other_hours FROM (VALUES (1)) AS one "
    "LEFT JOIN provider_profiles pp ON pp.organisation_id = :provider_id"
)


def part_time_missing(p: LockedPlacement, other_hours: Decimal, start: date) -> list[FieldError]:
    """What a part-time timetable lacks: below the area's full-time hours across the
    child's placements (and a school's part-time roll), it needs its reason, the parent's
    agreement and a review date at most six weeks (the area's setting) after it starts."""
    area = active_policy().area
    total = (p.hours_per_week or Decimal(0)) + other_hours
    if total >= area.full_time_hours:
        return []
    missing = []
    if not p.part_time_justification:
        missing.append(FieldError("part_time_justification", "a justification for part-time hours"))
    if p.part_time_parent_agreed_on is None:
        missing.append(
            FieldError(
                "part_time_parent_agreed_on", "the date the parent agreed the part-time hours"
            )
        )
    latest = start + timedelta(days=area.part_time_review_max_days)
    review = p.part_time_review_date
    if review is None or not start <= review <= latest:
        missing.append(
            FieldError(
                "part_time_review_date",
                f"a review date of the part-time hours between {start} and {latest}",
            )
        )
    return missing


async def start(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: StartAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    require_provider(principal, p)
    require_status(p, "start", "offered")
    missing: list[FieldError] = []
    starts_on = body.start_date or p.start_date
    facts = await uow.fetchrow(
        _START_FACTS,
        placement_id=p.id,
        provider_id=p.provider_id,
        child_id=p.child_id,
        start_date=starts_on,
    )
    if not facts["outcomes"]:
        missing.append(FieldError("intended_outcomes", "at least one intended outcome"))
    if not p.exit_strategy:
        missing.append(FieldError("exit_strategy", "an exit strategy"))
    if p.next_review_date is None:
        missing.append(FieldError("next_review_date", "a next review date"))
    if p.hours_per_week is None:
        missing.append(FieldError("hours_per_week", "hours per week"))
    else:
        missing += part_time_missing(p, facts["other_hours"], starts_on)
    unregistered = facts["registration_status"] in (None, "unregistered")
    if unregistered:
        if p.safeguarding_confirmed_on is None:
            missing.append(
                FieldError(
                    "safeguarding_confirmed_on",
                    "the commissioner's safeguarding confirmation date (unregistered provider)",
                )
            )
        qa = facts["qa_status"] or "not_assessed"  # no profile: not assessed
        if qa != "approved":
            missing.append(
                FieldError("provider.qa_status", f"a current QA status of approved (is {qa})")
            )
    if missing:
        raise Invalid(
            "Cannot start: missing " + "; ".join(m["message"] for m in missing), errors=missing
        )
    if unregistered:
        await lock_provider_starts(uow, p.provider_id)
        breach = await threshold_breach(uow, p.provider_id, adding=p)
        if breach:
            raise Invalid.field(
                "provider_id",
                f"Cannot start: the provider is unregistered and would be over the "
                f"registration threshold ({breach})",
            )
    p.status = "active"
    if body.start_date is not None:
        p.start_date = body.start_date
    started = {"start_date": p.start_date.isoformat()}
    await transition(uow, principal, p, "placement.started", started, answers=200)
    return p


_REVIEW_LOCK = (
    "SELECT id, placement_id, decision, extension_applied FROM placement_reviews "
    "WHERE id = :review_id FOR UPDATE"
)
# the extension is applied by the transition's own statement (an `Alongside`)
_EXTENSION_APPLIED = (
    "UPDATE placement_reviews SET extension_applied = true WHERE id = :review_id "
    "RETURNING NULL::text AS body"
)


async def extend(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ExtendAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    await require_commissioner(uow, principal, p)
    require_status(p, "extend", "active")
    review = await uow.fetchrow(_REVIEW_LOCK, review_id=body.review_id)
    if review is None or review["placement_id"] != p.id:
        raise Invalid.field("review_id", "review_id must name a review of this placement")
    if review["decision"] != "extend":
        raise Invalid.field("review_id", f"that review decided to {review['decision']}, not extend")
    if review["extension_applied"]:
        raise Invalid.field("review_id", "that review's extension has already been applied")
    if body.planned_end_date <= p.planned_end_date:
        raise Invalid.field("planned_end_date", "an extension must move the planned end later")
    previous = p.planned_end_date
    p.planned_end_date = body.planned_end_date
    await transition(
        uow,
        principal,
        p,
        "placement.extended",
        {
            "review_id": str(review["id"]),
            "from": previous.isoformat(),
            "to": body.planned_end_date.isoformat(),
        },
        alongside=Alongside(_EXTENSION_APPLIED, {"review_id": review["id"]}),
        answers=200,
    )
    return p


async def end(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: EndAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    await require_commissioner(uow, principal, p)
    require_status(p, "end", "active")
    ended_on = body.actual_end_date or date.today()
    if ended_on < p.start_date:
        raise Invalid.field("actual_end_date", "actual_end_date must not be before start_date")
    p.status = "ended"
    p.actual_end_date = ended_on
    p.end_reason = body.end_reason.value
    p.destination = body.destination.value
    p.closing_note = body.closing_note
    await transition(
        uow,
        principal,
        p,
        "placement.ended",
        {
            "end_reason": body.end_reason.value,
            "destination": body.destination.value,
            "actual_end_date": ended_on.isoformat(),
        },
        answers=200,
    )
    return p


async def propose_end(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ProposeEndAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    require_provider(principal, p)
    require_status(p, "propose an end to", "active")
    await transition(
        uow,
        principal,
        p,
        "placement.end_proposed",
        {
            "reason": body.reason,
            "proposed_end_date": body.proposed_end_date.isoformat(),
            "destination": body.destination.value if body.destination else None,
        },
        answers=200,
    )
    return p
