"""Reviews of a placement: progress against each intended outcome, views, decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Forbidden, Invalid, NotFound
from aphub.ids import uuid7
from aphub.placements import repository
from aphub.placements.repository import INSERT_REVIEW
from aphub.placements.schemas import ReviewCreate
from aphub.placements.service import (
    Alongside,
    acts_as_commissioner,
    locked,
    require_status,
    transition,
)

_OUTCOME_IDS = (
    "SELECT array_agg(id) AS ids FROM intended_outcomes WHERE placement_id = :placement_id"
)


@dataclass(frozen=True, slots=True)
class RecordedReview:
    id: uuid.UUID
    json: str  # the review as `GET .../reviews` lists it, built by its INSERT

    @property
    def review(self) -> dict[str, Any]:
        return dict(orjson.loads(self.json))


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def record_review(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ReviewCreate,
    if_match: int | None,
) -> RecordedReview:
    p = await locked(uow, principal, placement_id, if_match)
    if principal.organisation_id != p.provider_id and not await acts_as_commissioner(
        uow, principal, p
    ):
        raise Forbidden("Only the commissioner, the home LA or the provider records reviews")
    require_status(p, "review", "active")
    if body.progress:  # a review without progress entries names no outcome to check
        row = await uow.fetchrow(_OUTCOME_IDS, placement_id=p.id)
        outcome_ids = set(row["ids"] or ())
        for i, progress in enumerate(body.progress):
            if progress.outcome_id not in outcome_ids:
                raise Invalid.field(
                    f"progress.{i}.outcome_id",
                    "outcome_id must name an intended outcome of this placement",
                )
    review_id = uuid7()
    review = Alongside(
        INSERT_REVIEW,
        {
            "review_id": review_id,
            "scheduled_on": body.scheduled_on,
            "held_on": body.held_on,
            "attendees": [a.value for a in body.attendees],
            "progress": _json([x.model_dump(mode="json") for x in body.progress]),
            "attendance_percent": body.attendance_percent,
            "child_views": body.child_views,
            "family_views": body.family_views,
            "decision": body.decision.value,
            "actions": _json([a.model_dump(mode="json") for a in body.actions]),
            "review_next_review_date": body.next_review_date,
            "proposed_end_date": body.proposed_end_date,
            "recorded_by_id": principal.organisation_id,
        },
    )
    if body.next_review_date is not None:
        p.next_review_date = body.next_review_date
    recorded = await transition(
        uow,
        principal,
        p,
        "placement.reviewed",
        {
            "review_id": str(review_id),
            "held_on": body.held_on.isoformat(),
            "decision": body.decision.value,
            "next_review_date": body.next_review_date.isoformat()
            if body.next_review_date
            else None,
        },
        returning_json=False,  # the answer is the review
        alongside=review,
        answers=201,
    )
    assert recorded is not None, "the review's INSERT returns it"
    return RecordedReview(review_id, recorded)


async def list_reviews(
    uow: ReadUnit, principal: Principal, placement_id: uuid.UUID
) -> list[dict[str, Any]]:
    if not await repository.is_visible(uow, principal, placement_id):
        raise NotFound("No such placement, or not visible to you")
    return (await repository.reviews_of(uow, principal, [placement_id]))[placement_id]
