"""GraphQL inputs for placement mutations: the REST bodies, field for field.

Enumerations travel as Strings and amounts as Floats; the REST pydantic models validate
them (`aphub.graphql.inputs.parse`), so a GraphQL client meets the same rules and field
errors as a REST client and no rule is written twice.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

import strawberry
from strawberry.types.unset import UNSET

from aphub.placements.schemas import (
    Attendee,
    Destination,
    EndReason,
    FundingSource,
    FundingUnit,
    LegalBasis,
    PrimaryReason,
    ProgressRating,
    ReviewDecision,
    Session,
    Weekday,
)


def one_of(values: type[StrEnum], what: str = "One of") -> str:
    return f"{what}: {', '.join(v.value for v in values)}"


@strawberry.input(description="The sessions of one weekday the child attends")
class PatternDayInput:
    day: str = strawberry.field(description=one_of(Weekday))
    sessions: list[str] = strawberry.field(description=one_of(Session, "Each one of"))


@strawberry.input
class FundingInput:
    source: str = strawberry.field(description=one_of(FundingSource))
    rate: float
    unit: str = strawberry.field(description=one_of(FundingUnit))


@strawberry.input
class ExitStrategyInput:
    intended_destination: str = strawberry.field(description=one_of(Destination))
    readiness_criteria: str
    planned_date: date


@strawberry.input(description="A SMART intended outcome")
class IntendedOutcomeInput:
    description: str
    baseline: str
    target: str
    measure: str
    target_date: date


@strawberry.input(
    description="The plan a commissioner sets and may vary (PATCH /v1/placements/{id}): "
    "only the fields sent change; lists are replaced whole"
)
class PlacementPlanInput:
    offer_id: uuid.UUID | None = UNSET
    delivery_location_ids: list[uuid.UUID] | None = UNSET
    hours_per_week: float | None = UNSET
    pattern: list[PatternDayInput] | None = UNSET
    part_time_justification: str | None = UNSET
    part_time_parent_agreed_on: date | None = UNSET
    part_time_review_date: date | None = UNSET
    intended_outcomes: list[IntendedOutcomeInput] | None = UNSET
    exit_strategy: ExitStrategyInput | None = UNSET
    review_frequency_weeks: int | None = UNSET
    next_review_date: date | None = UNSET
    funding: FundingInput | None = UNSET
    transport: str | None = UNSET
    safeguarding_confirmed_on: date | None = UNSET
    ehcp_caseworker_notified_on: date | None = UNSET
    virtual_school_head_notified_on: date | None = UNSET


@strawberry.input(description="A commission (POST /v1/placements)")
class PlacementRequestInput(PlacementPlanInput):
    child_id: uuid.UUID
    provider_id: uuid.UUID
    legal_basis: str = strawberry.field(description=one_of(LegalBasis))
    primary_reason: str = strawberry.field(description=one_of(PrimaryReason))
    start_date: date
    planned_end_date: date = strawberry.field(description="Mandatory: no open-ended placements")
    home_school_id: uuid.UUID | None = UNSET
    dual_registered: bool | None = UNSET


@strawberry.input
class OfferPlacementInput:
    offer_id: uuid.UUID | None = UNSET
    delivery_location_ids: list[uuid.UUID] | None = UNSET
    note: str | None = UNSET


@strawberry.input
class ReasonInput:
    reason: str


@strawberry.input
class StartPlacementInput:
    start_date: date | None = strawberry.field(
        default=UNSET, description="Defaults to the planned start"
    )


@strawberry.input
class ExtendPlacementInput:
    review_id: uuid.UUID = strawberry.field(description="The review that decided to extend")
    planned_end_date: date


@strawberry.input
class EndPlacementInput:
    end_reason: str = strawberry.field(description=one_of(EndReason))
    destination: str = strawberry.field(description=one_of(Destination))
    actual_end_date: date | None = strawberry.field(default=UNSET, description="Defaults to today")
    closing_note: str | None = UNSET


@strawberry.input
class ProposePlacementEndInput:
    reason: str
    proposed_end_date: date
    destination: str | None = strawberry.field(default=UNSET, description=one_of(Destination))


@strawberry.input
class OutcomeProgressInput:
    outcome_id: uuid.UUID
    rating: str = strawberry.field(description=one_of(ProgressRating))
    evidence: str | None = UNSET


@strawberry.input
class ReviewActionInput:
    description: str
    owner: str
    due_date: date


@strawberry.input(description="A review meeting (POST /v1/placements/{id}/reviews)")
class PlacementReviewInput:
    held_on: date
    attendees: list[str] = strawberry.field(description=one_of(Attendee, "Each one of"))
    decision: str = strawberry.field(description=one_of(ReviewDecision))
    scheduled_on: date | None = UNSET
    progress: list[OutcomeProgressInput] | None = UNSET
    attendance_percent: float | None = UNSET
    child_views: str | None = UNSET
    family_views: str | None = UNSET
    actions: list[ReviewActionInput] | None = UNSET
    next_review_date: date | None = UNSET
    proposed_end_date: date | None = strawberry.field(
        default=UNSET, description="Required when the decision is to extend"
    )
