"""Reviews of a placement: progress against each intended outcome, views, decision."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.db import UnitOfWork
from aphub.errors import Forbidden, Invalid, NotFound
from aphub.models import IntendedOutcome, PlacementReview
from aphub.placements import repository
from aphub.placements.schemas import ReviewCreate
from aphub.placements.service import acts_as_commissioner, locked, require_status, transition


async def record_review(
    uow: UnitOfWork,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ReviewCreate,
    if_match: int | None,
) -> uuid.UUID:
    p = await locked(uow, principal, placement_id, if_match)
    if principal.organisation_id != p.provider_id and not await acts_as_commissioner(
        uow, principal, p
    ):
        raise Forbidden("Only the commissioner, the home LA or the provider records reviews")
    require_status(p, "review", "active")
    outcome_ids = set(
        await uow.session.scalars(
            select(IntendedOutcome.id).where(IntendedOutcome.placement_id == p.id)
        )
    )
    for i, progress in enumerate(body.progress):
        if progress.outcome_id not in outcome_ids:
            raise Invalid.field(
                f"progress.{i}.outcome_id",
                "outcome_id must name an intended outcome of this placement",
            )
    review = PlacementReview(
        placement_id=p.id,
        scheduled_on=body.scheduled_on,
        held_on=body.held_on,
        attendees=[a.value for a in body.attendees],
        progress=[x.model_dump(mode="json") for x in body.progress],
        attendance_percent=body.attendance_percent,
        child_views=body.child_views,
        family_views=body.family_views,
        decision=body.decision.value,
        actions=[a.model_dump(mode="json") for a in body.actions],
        next_review_date=body.next_review_date,
        proposed_end_date=body.proposed_end_date,
        recorded_by_id=principal.organisation_id,
    )
    uow.session.add(review)
    await uow.session.flush()
    if body.next_review_date is not None:
        p.next_review_date = body.next_review_date
    transition(
        uow,
        principal,
        p,
        "placement.reviewed",
        {
            "review_id": str(review.id),
            "held_on": body.held_on.isoformat(),
            "decision": body.decision.value,
            "next_review_date": body.next_review_date.isoformat()
            if body.next_review_date
            else None,
        },
    )
    return review.id


async def list_reviews(
    uow: UnitOfWork, principal: Principal, placement_id: uuid.UUID
) -> list[dict[str, Any]]:
    if not await repository.is_visible(uow, principal, placement_id):
        raise NotFound("No such placement, or not visible to you")
    return (await repository.reviews_of(uow, principal, [placement_id]))[placement_id]
