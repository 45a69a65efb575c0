"""Placements (commissions): what commissioners send, and the actions of the lifecycle."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Text = Annotated[str, Field(min_length=1, max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class PlacementStatus(StrEnum):
    requested = "requested"
    offered = "offered"
    active = "active"
    ended = "ended"
    declined = "declined"
    cancelled = "cancelled"


class LegalBasis(StrEnum):
    s19_education_act_1996 = "s19_education_act_1996"
    s100_education_and_inspections_act_2006 = "s100_education_and_inspections_act_2006"
    s29a_education_act_2002 = "s29a_education_act_2002"
    s42_children_and_families_act_2014 = "s42_children_and_families_act_2014"
    s61_children_and_families_act_2014 = "s61_children_and_families_act_2014"
    medical_s19 = "medical_s19"


class PrimaryReason(StrEnum):
    permanent_exclusion = "permanent_exclusion"
    suspension = "suspension"
    at_risk_of_exclusion = "at_risk_of_exclusion"
    semh = "semh"
    send = "send"
    medical = "medical"
    ebsa = "ebsa"
    awaiting_school_place = "awaiting_school_place"
    awaiting_specialist_place = "awaiting_specialist_place"
    youth_justice = "youth_justice"
    young_carer = "young_carer"
    bullying = "bullying"
    other = "other"


class Destination(StrEnum):
    reintegrated_home_school = "reintegrated_home_school"
    new_mainstream_school = "new_mainstream_school"
    special_school = "special_school"
    other_ap = "other_ap"
    post16_education = "post16_education"
    employment_or_training = "employment_or_training"
    neet = "neet"
    elective_home_education = "elective_home_education"
    moved_away = "moved_away"
    permanent_exclusion = "permanent_exclusion"
    unknown = "unknown"


class EndReason(StrEnum):
    planned_end = "planned_end"
    outcomes_achieved = "outcomes_achieved"
    reintegrated = "reintegrated"
    breakdown = "breakdown"
    moved_away = "moved_away"
    needs_changed = "needs_changed"
    provider_closed = "provider_closed"
    other = "other"


class FundingSource(StrEnum):
    school = "school"
    trust = "trust"
    local_authority = "local_authority"
    high_needs_block = "high_needs_block"
    other = "other"


class FundingUnit(StrEnum):
    per_session = "per_session"
    per_day = "per_day"
    per_week = "per_week"
    per_term = "per_term"
    per_year = "per_year"
    per_placement = "per_placement"


class Session(StrEnum):
    am = "am"
    pm = "pm"


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"


class PatternDay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: Weekday
    sessions: Annotated[list[Session], Field(min_length=1, max_length=2)]


class Funding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: FundingSource
    rate: Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=9, decimal_places=2)]
    unit: FundingUnit


class ExitStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intended_destination: Destination
    readiness_criteria: Text
    planned_date: date


class IntendedOutcomeIn(BaseModel):
    """SMART: what, from where, to where, measured how, by when."""

    model_config = ConfigDict(extra="forbid")

    description: Text
    baseline: Text
    target: Text
    measure: Text
    target_date: date


Hours = Annotated[Decimal, Field(gt=0, le=40, max_digits=3, decimal_places=1)]


class PlacementPlan(BaseModel):
    """Fields a commissioner sets at request and may vary later."""

    model_config = ConfigDict(extra="forbid")

    offer_id: uuid.UUID | None = None
    delivery_location_ids: Annotated[list[uuid.UUID], Field(max_length=10)] = []
    hours_per_week: Hours | None = None
    pattern: Annotated[list[PatternDay], Field(max_length=5)] = []
    part_time_justification: Text | None = Field(
        None, description="Why the timetable is part time (required when it is)"
    )
    part_time_parent_agreed_on: date | None = Field(
        None, description="When the parent agreed the part-time timetable"
    )
    part_time_review_date: date | None = Field(
        None, description="When the part-time timetable is reviewed: at most six weeks ahead"
    )
    intended_outcomes: Annotated[list[IntendedOutcomeIn], Field(max_length=20)] = []
    exit_strategy: ExitStrategy | None = None
    review_frequency_weeks: Annotated[int, Field(ge=1, le=52)] | None = None
    next_review_date: date | None = None
    funding: Funding | None = None
    transport: Text | None = None
    safeguarding_confirmed_on: date | None = None
    ehcp_caseworker_notified_on: date | None = None
    virtual_school_head_notified_on: date | None = None


class PlacementCreate(PlacementPlan):
    child_id: uuid.UUID
    provider_id: uuid.UUID
    home_school_id: uuid.UUID | None = None
    legal_basis: LegalBasis
    primary_reason: PrimaryReason
    dual_registered: bool = False
    start_date: date
    planned_end_date: date = Field(description="Mandatory: no open-ended placements")

    @model_validator(mode="after")
    def _dates(self) -> PlacementCreate:
        if self.planned_end_date < self.start_date:
            raise ValueError("planned_end_date must not be before start_date")
        if self.dual_registered and self.home_school_id is None:
            raise ValueError("a dual-registered placement needs home_school_id (the main school)")
        return self


class PlacementVary(PlacementPlan):
    """PATCH: only the fields sent change (lists are replaced whole)."""


class OfferAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: uuid.UUID | None = None
    delivery_location_ids: Annotated[list[uuid.UUID], Field(max_length=10)] | None = None
    note: Text | None = None


class ReasonAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


class StartAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Defaults to the planned start")


class ExtendAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_id: uuid.UUID = Field(description="The review that decided to extend")
    planned_end_date: date


class EndAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_reason: EndReason
    destination: Destination
    actual_end_date: date | None = Field(default=None, description="Defaults to today")
    closing_note: Text | None = None


class ProposeEndAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text
    proposed_end_date: date
    destination: Destination | None = None


class ReviewDecision(StrEnum):
    continue_ = "continue"
    vary = "vary"
    extend = "extend"
    end = "end"
    reintegrate = "reintegrate"


class Attendee(StrEnum):
    child = "child"
    parent_carer = "parent_carer"
    commissioner = "commissioner"
    provider = "provider"
    senco = "senco"
    social_worker = "social_worker"
    virtual_school_head = "virtual_school_head"
    health = "health"


class ProgressRating(StrEnum):
    not_started = "not_started"
    emerging = "emerging"
    developing = "developing"
    secure = "secure"
    achieved = "achieved"


class OutcomeProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome_id: uuid.UUID
    rating: ProgressRating
    evidence: Text | None = None


class ReviewAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Text
    owner: ShortText
    due_date: date


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheduled_on: date | None = None
    held_on: date
    attendees: Annotated[list[Attendee], Field(min_length=1, max_length=8)]
    progress: Annotated[list[OutcomeProgress], Field(max_length=20)] = []
    attendance_percent: (
        Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] | None
    ) = None
    child_views: Text | None = None
    family_views: Text | None = None
    decision: ReviewDecision
    actions: Annotated[list[ReviewAction], Field(max_length=30)] = []
    next_review_date: date | None = None
    proposed_end_date: date | None = Field(
        default=None, description="Required when the decision is to extend"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReviewCreate:
        if self.decision == ReviewDecision.extend and self.proposed_end_date is None:
            raise ValueError("a review that decides to extend gives proposed_end_date")
        if self.next_review_date is not None and self.next_review_date < self.held_on:
            raise ValueError("next_review_date must not be before held_on")
        continues = (ReviewDecision.continue_, ReviewDecision.vary, ReviewDecision.extend)
        if self.decision in continues and self.next_review_date is None:
            raise ValueError("a placement that continues needs next_review_date")
        return self
