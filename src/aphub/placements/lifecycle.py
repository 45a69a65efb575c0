"""The placement lifecycle: requested → offered → active → ended, with declined and
cancelled. Illegal transitions are 409; a missing requirement is 422 naming it."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text

from aphub import registration
from aphub.auth.principal import Principal
from aphub.db import UnitOfWork, Writes
from aphub.errors import FieldError, Invalid
from aphub.models import Child, IntendedOutcome, PlacementReview
from aphub.models.providers import ProviderProfile
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
    locked,
    require_commissioner,
    require_provider,
    require_status,
    transition,
)


async def offer(
    uow: Writes,
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
    await transition(uow, principal, p, "placement.offered", {"note": body.note})
    return p


async def decline(
    uow: Writes,
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
    await transition(uow, principal, p, "placement.declined", {"reason": body.reason})
    return p


async def cancel(
    uow: Writes,
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
    await transition(uow, principal, p, "placement.cancelled", {"reason": body.reason})
    return p


async def lock_provider_starts(uow: UnitOfWork, provider_id: uuid.UUID) -> None:
    """Serialise starts at one unregistered provider until commit: the threshold counts
    committed active placements, so two starts checked side by side could both pass
    and together cross it. Taken after the placement's row lock and before the event
    chain head, the order every transition takes its locks in."""
    await uow.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"placement-starts:{provider_id}"},
    )


async def threshold_breach(
    uow: UnitOfWork, provider_id: uuid.UUID, adding: LockedPlacement | None = None
) -> str | None:
    """Why an unregistered provider would be over the registration threshold, or None."""
    pupils_sql, flagged_sql = registration.counts(provider_id)
    pupils, flagged = (await uow.session.execute(select(pupils_sql, flagged_sql))).one()
    if adding is not None and (adding.hours_per_week or 0) >= registration.FULL_TIME_HOURS:
        child = await uow.session.get(Child, adding.child_id)
        pupils += 1
        if child is not None and (child.looked_after or child.sen_provision == "ehcp"):
            flagged += 1
    return registration.breach(pupils, flagged)


async def start(
    uow: UnitOfWork,
    principal: Principal,
    placement_id: uuid.UUID,
    body: StartAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    require_provider(principal, p)
    require_status(p, "start", "offered")
    missing: list[FieldError] = []
    outcomes = await uow.session.scalar(
        select(func.count()).where(IntendedOutcome.placement_id == p.id)
    )
    if not outcomes:
        missing.append(FieldError("intended_outcomes", "at least one intended outcome"))
    if not p.exit_strategy:
        missing.append(FieldError("exit_strategy", "an exit strategy"))
    if p.next_review_date is None:
        missing.append(FieldError("next_review_date", "a next review date"))
    if p.hours_per_week is None:
        missing.append(FieldError("hours_per_week", "hours per week"))
    elif p.hours_per_week < Decimal(25) and not p.part_time_justification:
        missing.append(FieldError("part_time_justification", "a justification for part-time hours"))
    profile = await uow.session.get(ProviderProfile, p.provider_id)
    unregistered = profile is None or profile.registration_status in (None, "unregistered")
    if unregistered:
        if p.safeguarding_confirmed_on is None:
            missing.append(
                FieldError(
                    "safeguarding_confirmed_on",
                    "the commissioner's safeguarding confirmation date (unregistered provider)",
                )
            )
        qa = profile.qa_status if profile else "not_assessed"
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
    await transition(uow, principal, p, "placement.started", started)
    return p


async def extend(
    uow: UnitOfWork,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ExtendAction,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    await require_commissioner(uow, principal, p)
    require_status(p, "extend", "active")
    review = await uow.session.get(PlacementReview, body.review_id, with_for_update=True)
    if review is None or review.placement_id != p.id:
        raise Invalid.field("review_id", "review_id must name a review of this placement")
    if review.decision != "extend":
        raise Invalid.field("review_id", f"that review decided to {review.decision}, not extend")
    if review.extension_applied:
        raise Invalid.field("review_id", "that review's extension has already been applied")
    if body.planned_end_date <= p.planned_end_date:
        raise Invalid.field("planned_end_date", "an extension must move the planned end later")
    previous = p.planned_end_date
    p.planned_end_date = body.planned_end_date
    review.extension_applied = True
    await transition(
        uow,
        principal,
        p,
        "placement.extended",
        {
            "review_id": str(review.id),
            "from": previous.isoformat(),
            "to": body.planned_end_date.isoformat(),
        },
    )
    return p


async def end(
    uow: Writes,
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
    )
    return p


async def propose_end(
    uow: Writes,
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
    )
    return p
