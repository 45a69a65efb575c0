"""Outcomes: progress against intended outcomes, accreditations, follow-ups after the end."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from aphub.attendance.schemas import Summary
from aphub.placements.schemas import (
    Destination,
    EndReason,
    PlacementStatus,
    ProgressRating,
    ShortText,
    Text,
)


class QualificationLevel(StrEnum):
    entry_1 = "entry_1"
    entry_2 = "entry_2"
    entry_3 = "entry_3"
    level_1 = "level_1"
    level_2 = "level_2"
    level_3 = "level_3"
    level_4 = "level_4"
    level_5 = "level_5"
    level_6 = "level_6"
    level_7 = "level_7"
    level_8 = "level_8"


class FollowUpKind(StrEnum):
    six_weeks = "six_weeks"
    next_term_end = "next_term_end"


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: ProgressRating
    evidence: Text | None = None
    recorded_on: date | None = Field(default=None, description="Defaults to today")


class AccreditationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qualification: ShortText = Field(examples=["GCSE English Language"])
    level: QualificationLevel
    grade: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    awarding_body: ShortText | None = None
    awarded_on: date


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FollowUpKind
    sustained: bool = Field(description="Is the child still in the destination?")
    note: Text | None = None
    recorded_on: date | None = Field(default=None, description="Defaults to today")


class ProgressView(BaseModel):
    id: uuid.UUID
    outcome_id: uuid.UUID | None = Field(description="Null once a variation replaced it")
    outcome_description: str
    rating: ProgressRating
    evidence: str | None
    recorded_on: date
    recorded_by_id: uuid.UUID
    created_at: datetime


class OutcomeWithProgress(BaseModel):
    id: uuid.UUID
    description: str
    baseline: str
    target: str
    measure: str
    target_date: date
    latest_rating: ProgressRating | None
    progress: list[ProgressView]


class AccreditationView(BaseModel):
    id: uuid.UUID
    qualification: str
    level: QualificationLevel
    grade: str | None
    awarding_body: str | None
    awarded_on: date
    recorded_by_id: uuid.UUID
    created_at: datetime


class FollowUpView(BaseModel):
    id: uuid.UUID
    kind: FollowUpKind
    due_on: date
    sustained: bool
    note: str | None
    recorded_on: date
    recorded_by_id: uuid.UUID
    created_at: datetime


class FollowUpStatus(BaseModel):
    kind: FollowUpKind
    due_on: date | None = Field(description="Null until the placement has ended")
    recorded: FollowUpView | None


class EntryExit(BaseModel):
    entry: Summary = Field(description="The first four weeks of marks")
    exit: Summary = Field(description="The last four weeks of marks")


class OutcomesView(BaseModel):
    placement_id: uuid.UUID
    version: int
    status: PlacementStatus
    outcomes: list[OutcomeWithProgress]
    replaced_outcome_progress: list[ProgressView] = Field(
        description="Progress recorded against outcomes a variation has since replaced"
    )
    accreditations: list[AccreditationView]
    attendance: EntryExit
    destination: Destination | None
    end_reason: EndReason | None
    actual_end_date: date | None
    follow_ups: list[FollowUpStatus]


class DueFollowUp(BaseModel):
    placement_id: uuid.UUID
    child_id: uuid.UUID
    kind: FollowUpKind
    due_on: date
    overdue: bool
    actual_end_date: date
    destination: Destination | None


class DueFollowUpPage(BaseModel):
    items: list[DueFollowUp]
    next_cursor: str | None = None
