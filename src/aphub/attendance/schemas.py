"""Attendance: what providers return, what the hub answers, and the shapes of reads."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_MARKS = 10_000
MAX_NOTE = 1000
MAX_MINUTES_LATE = 300
CSV_COLUMNS = ("placement_id", "date", "session", "mark", "minutes_late", "note")
REQUIRED_CSV_COLUMNS = ("placement_id", "date", "session", "mark")


class Mark(StrEnum):
    present = "present"
    late = "late"
    absent_authorised = "absent_authorised"
    absent_unauthorised = "absent_unauthorised"
    not_required = "not_required"


class ConcernKind(StrEnum):
    no_return = "no_return"
    unexplained_absence = "unexplained_absence"
    below_90 = "below_90"
    below_50 = "below_50"


class RowProblem(BaseModel):
    field: str
    message: str


class RowError(BaseModel):
    row: int = Field(description="1-based: the first mark (the first line after a CSV header)")
    placement_id: str | None
    date: str | None
    session: str | None
    message: str = Field(description="Every reason the row was rejected")
    errors: list[RowProblem]


class PlacementCounts(BaseModel):
    placement_id: uuid.UUID
    child_id: uuid.UUID
    marks: int
    inserted: int
    replaced: int


class ReturnReport(BaseModel):
    """What happened to each row: the valid rows were all written (in one transaction,
    with their events); every rejected row is listed with why."""

    return_id: uuid.UUID | None = Field(description="Null when no row was accepted")
    received: int
    accepted: int
    rejected: int
    inserted: int
    replaced: int
    unchanged: int
    placements: list[PlacementCounts]
    errors: list[RowError]


class MarkView(BaseModel):
    placement_id: uuid.UUID
    date: date
    session: str
    mark: Mark
    code: str = Field(description="The home school's DfE code: K, B or D attended; C, O, X")
    minutes_late: int | None
    note: str | None
    recorded_at: datetime


class MarkPage(BaseModel):
    items: list[MarkView]
    next_cursor: str | None = None


class Summary(BaseModel):
    from_date: date | None = Field(description="Start of the window (null: unbounded)")
    to_date: date | None = Field(description="End of the window (null: unbounded)")
    possible: int = Field(description="Sessions marked other than not_required")
    attended: int = Field(description="present + late")
    present: int
    late: int
    absent_authorised: int
    absent_unauthorised: int
    unexplained_absences: int = Field(description="absent_unauthorised with no note")
    not_required: int
    percentage: float | None = Field(description="100 * attended / possible, 1 decimal")


class PlacementSummary(Summary):
    placement_id: uuid.UUID
    child_id: uuid.UUID
    provider_id: uuid.UUID
    status: str


class PlacementSummaryPage(BaseModel):
    items: list[PlacementSummary]
    next_cursor: str | None = None


class HolidayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_date: date
    to_date: date
    name: Annotated[str, Field(min_length=1, max_length=200)]

    @model_validator(mode="after")
    def _span(self) -> HolidayIn:
        if self.to_date < self.from_date:
            raise ValueError("to_date must not be before from_date")
        if (self.to_date - self.from_date).days > 120:
            raise ValueError("a holiday spans at most 120 days")
        return self


class HolidayView(BaseModel):
    id: uuid.UUID
    la_id: uuid.UUID
    from_date: date
    to_date: date
    name: str
    created_at: datetime


class HolidayPage(BaseModel):
    items: list[HolidayView]
    next_cursor: str | None = None


class ConcernView(BaseModel):
    id: uuid.UUID
    placement_id: uuid.UUID
    child_id: uuid.UUID
    commissioner_id: uuid.UUID
    home_la_id: uuid.UUID
    kind: ConcernKind
    day: date = Field(description="The school day, or the end of the six-week window")
    window_from: date | None
    possible: int | None
    attended: int | None
    percentage: float | None
    sessions: str | None
    raised_at: datetime


class ConcernPage(BaseModel):
    items: list[ConcernView]
    next_cursor: str | None = None


class ConcernRun(BaseModel):
    as_of: datetime = Field(description="The moment the run computed for (UTC)")
    scope: str = Field(description="`hub` (every placement) or the local authority's id")
    skipped: bool = Field(description="Another run held the lock: nothing was computed")
    raised: dict[str, int]


def row_echo(value: Any) -> str | None:
    """A rejected row's value as sent, bounded (a report never echoes a megabyte)."""
    if value is None or value == "":
        return None
    return str(value)[:100]
