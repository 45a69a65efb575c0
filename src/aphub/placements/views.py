"""Response shapes of placements (documentation and GraphQL mapping; REST reads stream
PostgreSQL-built JSON of exactly this shape)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from aphub.placements.schemas import (
    Destination,
    EndReason,
    ExitStrategy,
    Funding,
    LegalBasis,
    PlacementStatus,
    PrimaryReason,
    ReviewDecision,
)


class OutcomeView(BaseModel):
    id: uuid.UUID
    description: str
    baseline: str
    target: str
    measure: str
    target_date: date


class Flags(BaseModel):
    past_planned_end: bool | None
    review_overdue: bool | None
    part_time_review_overdue: bool | None = None


class PlacementView(BaseModel):
    id: uuid.UUID
    version: int
    status: PlacementStatus
    child_id: uuid.UUID
    commissioner_id: uuid.UUID
    commissioner_type: str
    provider_id: uuid.UUID
    home_school_id: uuid.UUID | None
    offer_id: uuid.UUID | None
    delivery_location_ids: list[uuid.UUID]
    legal_basis: LegalBasis
    primary_reason: PrimaryReason
    dual_registered: bool
    attendance_code: str
    start_date: date
    planned_end_date: date
    actual_end_date: date | None
    hours_per_week: float | None
    pattern: dict[str, Any]
    part_time_justification: str | None
    part_time_parent_agreed_on: date | None = None
    part_time_review_date: date | None = None
    intended_outcomes: list[OutcomeView]
    exit_strategy: ExitStrategy | None
    review_frequency_weeks: int | None
    next_review_date: date | None
    funding: Funding | None
    transport: str | None
    safeguarding_confirmed_on: date | None
    ehcp_caseworker_notified_on: date | None
    virtual_school_head_notified_on: date | None
    end_reason: EndReason | None
    destination: Destination | None
    closing_note: str | None
    created_at: datetime
    updated_at: datetime
    flags: Flags


class PlacementPage(BaseModel):
    items: list[PlacementView]
    next_cursor: str | None = None


class Actor(BaseModel):
    organisation_id: uuid.UUID | None
    client_id: str | None


class HistoryEntry(BaseModel):
    id: uuid.UUID
    seq: int
    type: str
    occurred_at: datetime
    actor: Actor
    version: int | None
    data: dict[str, Any]


class Review(BaseModel):
    id: uuid.UUID
    placement_id: uuid.UUID
    scheduled_on: date | None
    held_on: date
    attendees: list[str]
    progress: list[dict[str, Any]]
    attendance_percent: float | None
    # category `voice`: absent for a caller whose sharing agreement does not read it
    child_views: str | None = None
    family_views: str | None = None
    decision: ReviewDecision
    actions: list[dict[str, Any]]
    next_review_date: date | None
    proposed_end_date: date | None
    extension_applied: bool
    recorded_by_id: uuid.UUID | None
    created_at: datetime
