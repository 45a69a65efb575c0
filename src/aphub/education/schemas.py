"""What schools post to record an exclusion and its outcome, and what the hub answers
about a child's exclusions and education."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


class ExclusionKind(StrEnum):
    """`suspension` (the law's "exclusion for a fixed period") or `permanent`."""

    suspension = "suspension"
    permanent = "permanent"


class ExclusionStatus(StrEnum):
    """Where the exclusion stands: `in_force` as the headteacher decided; `withdrawn` by
    the headteacher; after the governing board's review, `reinstated` or `upheld`; after
    an independent review panel, `reconsideration_recommended` or
    `reconsideration_directed` (the board then decides again: `reinstated` or `upheld`)."""

    in_force = "in_force"
    withdrawn = "withdrawn"
    reinstated = "reinstated"
    upheld = "upheld"
    reconsideration_recommended = "reconsideration_recommended"
    reconsideration_directed = "reconsideration_directed"


# what may follow each status (School Discipline (Pupil Exclusions and Reviews) (England)
# Regulations 2012: the board's review, then a panel's, then the board's reconsideration)
NEXT_STATUS: dict[str, tuple[str, ...]] = {
    "in_force": ("withdrawn", "reinstated", "upheld"),
    "upheld": ("reconsideration_recommended", "reconsideration_directed", "reinstated"),
    "reconsideration_recommended": ("upheld", "reinstated"),
    "reconsideration_directed": ("upheld", "reinstated"),
    "withdrawn": (),
    "reinstated": (),
}


@cache
def reason_codes() -> dict[str, tuple[str, bool]]:
    """Code → (wording, current) from the shipped list (aphub/reference/exclusion_reasons
    .csv, which names the source of each code)."""
    import csv

    text = files("aphub.reference").joinpath("exclusion_reasons.csv").read_text("utf-8")
    return {
        row["code"]: (row["description"], row["current"] == "yes")
        for row in csv.DictReader(text.splitlines())
    }


def _reasons(value: list[str]) -> list[str]:
    codes = reason_codes()
    for code in value:
        if code not in codes:
            raise ValueError(f"{code} is not a DfE exclusion reason code")
        if not codes[code][1]:
            raise ValueError(f"{code} ({codes[code][0]}) is no longer a reason a school may give")
    if len(set(value)) != len(value):
        raise ValueError("each reason may be given once")
    return value


def _half_days(value: Decimal | None) -> Decimal | None:
    if value is not None and (value * 2) % 1 != 0:
        raise ValueError("school_days must be whole or half days")
    return value


Reasons = Annotated[
    list[Annotated[str, Field(min_length=2, max_length=2)]],
    Field(min_length=1, max_length=3),
    AfterValidator(_reasons),
]
SchoolDays = Annotated[Decimal, Field(gt=0, le=45), AfterValidator(_half_days)]


class ExclusionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "school_id": "0190a7e4-2b1c-7a55-9c1d-000000000001",
                    "kind": "suspension",
                    "first_day": "2026-11-16",
                    "school_days": 3,
                    "reasons": ["DB"],
                }
            ]
        },
    )

    school_id: uuid.UUID | None = Field(
        None, description="The excluding school (default: the caller, when it is a school)"
    )
    kind: ExclusionKind
    first_day: date = Field(description="The first school day of the exclusion")
    school_days: SchoolDays | None = Field(
        None, description="A suspension's length in school days (half days allowed)"
    )
    reasons: Reasons = Field(
        description="One to three DfE reason codes (school census), main reason first"
    )
    converted_from_id: uuid.UUID | None = Field(
        None,
        description="For a permanent exclusion following a suspension without a break: "
        "that suspension (its days count towards the local authority's sixth day)",
    )

    @model_validator(mode="after")
    def _days_by_kind(self) -> ExclusionCreate:
        if self.kind == ExclusionKind.suspension and self.school_days is None:
            raise ValueError("a suspension needs school_days")
        if self.kind == ExclusionKind.permanent and self.school_days is not None:
            raise ValueError("a permanent exclusion has no school_days")
        if self.kind == ExclusionKind.suspension and self.converted_from_id is not None:
            raise ValueError("only a permanent exclusion converts a suspension")
        return self


class ExclusionStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ExclusionStatus
    on: date = Field(description="When it was decided (a reinstatement takes effect that day)")


class ExclusionRecord(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    school_id: uuid.UUID
    school_name: str
    kind: ExclusionKind
    first_day: date
    school_days: Decimal | None
    reasons: list[str]
    status: ExclusionStatus
    status_on: date | None
    converted_from_id: uuid.UUID | None
    recorded_by_id: uuid.UUID
    version: int
    created_at: datetime


class Duty(BaseModel):
    """A run of consecutive school days of exclusion and the sixth-day duty it carries."""

    first_day: date
    last_day: date = Field(description="The run's last school day so far")
    school_days: int
    duty_day: date | None = Field(description="The sixth school day (null: five or fewer)")
    responsible_id: uuid.UUID | None = Field(description="Who owes the education now")
    exclusion_ids: list[uuid.UUID]
    met_today: bool | None = Field(description="Whether suitable education is in place today")


class Provision(BaseModel):
    hours_per_week: Decimal = Field(description="Across current placements and part-time roll")
    full_time: bool
    part_time_agreed: bool = Field(
        description="A part-time timetable with its reason, the parent's agreement and a "
        "review date not yet past"
    )


class Span(BaseModel):
    first_day: date
    last_day: date
    school_days: int
    reason: str = Field(description="excluded_without_provision or no_school_or_placement")
    responsible_id: uuid.UUID


class Flag(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    kind: str
    subject_id: uuid.UUID
    responsible_id: uuid.UUID
    home_la_id: uuid.UUID
    since: date
    raised_on: date
    cleared_on: date | None
    details: dict[str, object]


class EducationStatus(BaseModel):
    child_id: uuid.UUID
    as_of: date
    compulsory_school_age: bool
    provision: Provision
    duties: list[Duty]
    days_without_suitable_education: int = Field(
        description="School days without suitable education in the last two years"
    )
    history: list[Span]
    open_flags: list[Flag]
