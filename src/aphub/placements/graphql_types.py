"""GraphQL object types of placements' nested values, reviews and history entries."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from aphub.placements.schemas import (
    Destination,
    EndReason,
    FundingSource,
    FundingUnit,
    LegalBasis,
    PlacementStatus,
    PrimaryReason,
    Session,
    Weekday,
)
from aphub.placements.views import HistoryEntry, Review

for _enum in (
    PlacementStatus,
    LegalBasis,
    PrimaryReason,
    Destination,
    EndReason,
    FundingSource,
    FundingUnit,
    Weekday,
    Session,
):
    strawberry.enum(_enum)


@strawberry.type(name="PatternDay")
class PatternDayNode:
    day: Weekday
    sessions: list[Session]


@strawberry.type(name="Funding")
class FundingNode:
    source: FundingSource
    rate: float
    unit: FundingUnit


@strawberry.type(name="ExitStrategy")
class ExitStrategyNode:
    intended_destination: Destination
    readiness_criteria: str
    planned_date: date


@strawberry.type(name="IntendedOutcome")
class OutcomeNode:
    id: uuid.UUID
    description: str
    baseline: str
    target: str
    measure: str
    target_date: date


@strawberry.type(name="PlacementFlags", description="Oversight flags")
class FlagsNode:
    past_planned_end: bool | None
    review_overdue: bool | None
    part_time_review_overdue: bool | None = None


@strawberry.type(name="OutcomeProgress")
class OutcomeProgressNode:
    outcome_id: uuid.UUID
    rating: str
    evidence: str | None


@strawberry.type(name="ReviewAction")
class ReviewActionNode:
    description: str
    owner: str
    due_date: date


@strawberry.type(name="PlacementReview")
class ReviewNode:
    id: uuid.UUID
    placement_id: uuid.UUID
    scheduled_on: date | None
    held_on: date
    attendees: list[str]
    progress: list[OutcomeProgressNode]
    attendance_percent: float | None
    child_views: str | None
    family_views: str | None
    decision: str = strawberry.field(description="continue, vary, extend, end or reintegrate")
    actions: list[ReviewActionNode]
    next_review_date: date | None
    proposed_end_date: date | None
    extension_applied: bool
    recorded_by_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ReviewNode:
        view = Review.model_validate(raw)
        values = view.model_dump(exclude={"progress", "actions", "decision"})
        return cls(
            **values,
            decision=view.decision.value,
            progress=[
                OutcomeProgressNode(
                    outcome_id=uuid.UUID(str(p["outcome_id"])),
                    rating=str(p["rating"]),
                    evidence=p.get("evidence"),
                )
                for p in view.progress
            ],
            actions=[
                ReviewActionNode(
                    description=str(a["description"]),
                    owner=str(a["owner"]),
                    due_date=date.fromisoformat(str(a["due_date"])),
                )
                for a in view.actions
            ],
        )


@strawberry.type(name="EventActor")
class ActorNode:
    organisation_id: uuid.UUID | None
    client_id: str | None


@strawberry.type(name="PlacementHistoryEntry", description="One transition: what, who, when")
class HistoryEntryNode:
    id: uuid.UUID
    seq: int
    type: str
    occurred_at: datetime
    actor: ActorNode
    version: int | None
    data: JSON

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> HistoryEntryNode:
        view = HistoryEntry.model_validate(raw)
        return cls(
            id=view.id,
            seq=view.seq,
            type=view.type,
            occurred_at=view.occurred_at,
            actor=ActorNode(**view.actor.model_dump()),
            version=view.version,
            data=cast(JSON, view.data),
        )
