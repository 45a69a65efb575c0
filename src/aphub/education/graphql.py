"""GraphQL for children out of education: the same services and sharing as REST
(`Child.exclusions` and `Child.education` are on the child; the flags addressed to the
caller and the exclusion mutations are here)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import strawberry

from aphub.education import exclusions, flag_views
from aphub.education.schemas import ExclusionCreate, ExclusionStatus, ExclusionStatusChange
from aphub.graphql.context import HubInfo
from aphub.graphql.inputs import parse, present
from aphub.graphql.pages import checked_page_size


@strawberry.type(name="Exclusion")
class ExclusionNode:
    id: uuid.UUID
    child_id: uuid.UUID
    school_id: uuid.UUID
    school_name: str
    kind: str = strawberry.field(description="suspension or permanent")
    first_day: date
    school_days: float | None
    reasons: list[str] = strawberry.field(description="DfE reason codes, main reason first")
    status: str
    status_on: date | None
    converted_from_id: uuid.UUID | None
    recorded_by_id: uuid.UUID
    version: int
    created_at: datetime

    @classmethod
    def from_view(cls, row: dict[str, Any]) -> ExclusionNode:
        days = row["school_days"]
        return cls(**{**row, "school_days": float(days) if days is not None else None})


@strawberry.type(name="EducationDuty")
class DutyNode:
    first_day: date
    last_day: date
    school_days: int
    duty_day: date | None
    responsible_id: uuid.UUID | None
    exclusion_ids: list[uuid.UUID]
    met_today: bool | None


@strawberry.type(name="EducationSpan")
class SpanNode:
    first_day: date
    last_day: date
    school_days: int
    reason: str
    responsible_id: uuid.UUID


@strawberry.type(name="EducationFlag")
class FlagNode:
    id: uuid.UUID
    child_id: uuid.UUID
    kind: str
    subject_id: uuid.UUID
    responsible_id: uuid.UUID
    home_la_id: uuid.UUID
    since: date
    raised_on: date
    cleared_on: date | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FlagNode:
        return cls(**{k: v for k, v in row.items() if k != "details"})


@strawberry.type(name="EducationStatus")
class EducationStatusNode:
    as_of: date
    compulsory_school_age: bool
    hours_per_week: float = strawberry.field(description="Across current placements")
    full_time: bool
    part_time_agreed: bool
    duties: list[DutyNode]
    days_without_suitable_education: int
    history: list[SpanNode]
    open_flags: list[FlagNode]

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> EducationStatusNode:
        provision = view["provision"]
        return cls(
            as_of=view["as_of"],
            compulsory_school_age=view["compulsory_school_age"],
            hours_per_week=float(provision["hours_per_week"]),
            full_time=provision["full_time"],
            part_time_agreed=provision["part_time_agreed"],
            duties=[DutyNode(**d) for d in view["duties"]],
            days_without_suitable_education=view["days_without_suitable_education"],
            history=[SpanNode(**s) for s in view["history"]],
            open_flags=[FlagNode.from_row(f) for f in view["open_flags"]],
        )


@strawberry.type
class FlagPageNode:
    items: list[FlagNode]
    next_cursor: str | None


@strawberry.input
class ExclusionInput:
    kind: str
    first_day: date
    reasons: list[str]
    school_id: uuid.UUID | None = strawberry.UNSET
    school_days: float | None = strawberry.UNSET
    converted_from_id: uuid.UUID | None = strawberry.UNSET


@strawberry.type
class EducationQuery:
    @strawberry.field(description="Open out-of-education flags addressed to you")
    async def education_flags(
        self, info: HubInfo, kind: str | None = None, first: int = 100, after: str | None = None
    ) -> FlagPageNode:
        principal = info.context.principal("passports:read")
        page = await flag_views.open_flags(
            info.context.unit, principal, kind=kind, cursor=after, limit=checked_page_size(first)
        )
        return FlagPageNode(
            items=[FlagNode.from_row(r) for r in page["items"]], next_cursor=page["next_cursor"]
        )


@strawberry.type
class EducationMutation:
    @strawberry.mutation(description="Record a suspension or permanent exclusion")
    async def record_exclusion(
        self, info: HubInfo, child_id: uuid.UUID, input: ExclusionInput
    ) -> ExclusionNode:
        principal = info.context.principal("passports:write")
        data = parse(ExclusionCreate, present(input, drop_null=True))
        row = await exclusions.record_exclusion(info.context.writer, principal, child_id, data)
        return ExclusionNode.from_view(row)

    @strawberry.mutation(description="Record a review's outcome for an exclusion")
    async def change_exclusion_status(
        self,
        info: HubInfo,
        child_id: uuid.UUID,
        exclusion_id: uuid.UUID,
        status: str,
        on: date,
    ) -> ExclusionNode:
        principal = info.context.principal("passports:write")
        data = parse(ExclusionStatusChange, {"status": status, "on": on})
        row = await exclusions.change_status(
            info.context.writer, principal, child_id, exclusion_id, data
        )
        return ExclusionNode.from_view(row)


__all__ = ["EducationMutation", "EducationQuery", "ExclusionStatus"]
