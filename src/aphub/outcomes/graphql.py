"""GraphQL for outcomes: the same services as REST. Each mutation answers with the
placement's outcomes as the change left them (its `version` is the new one)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from aphub.attendance.graphql import SummaryNode
from aphub.auth.principal import Principal
from aphub.errors import Invalid
from aphub.graphql.context import HubInfo
from aphub.graphql.inputs import parse, present
from aphub.graphql.pages import checked_page_size
from aphub.outcomes import service, views
from aphub.outcomes.schemas import AccreditationIn, FollowUpIn, FollowUpKind, ProgressIn
from aphub.placements import graphql_types  # noqa: F401 - registers the placement enums
from aphub.placements.schemas import Destination, EndReason, PlacementStatus, ProgressRating

strawberry.enum(FollowUpKind)

RATINGS = ", ".join(r.value for r in ProgressRating)
IfMatch = Annotated[
    int | None,
    strawberry.argument(description="The version you read; PRECONDITION_FAILED if it moved on"),
]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@strawberry.type(name="OutcomeProgressUpdate")
class ProgressNode:
    id: uuid.UUID
    outcome_id: uuid.UUID | None = strawberry.field(
        description="Null once a variation replaced the outcome"
    )
    outcome_description: str
    rating: str = strawberry.field(description=f"One of: {RATINGS}")
    evidence: str | None
    recorded_on: date
    recorded_by_id: uuid.UUID
    created_at: datetime

    @classmethod
    def from_json(cls, p: dict[str, Any]) -> ProgressNode:
        return cls(
            id=uuid.UUID(p["id"]),
            outcome_id=uuid.UUID(p["outcome_id"]) if p["outcome_id"] else None,
            outcome_description=p["outcome_description"],
            rating=p["rating"],
            evidence=p["evidence"],
            recorded_on=date.fromisoformat(p["recorded_on"]),
            recorded_by_id=uuid.UUID(p["recorded_by_id"]),
            created_at=datetime.fromisoformat(p["created_at"]),
        )


@strawberry.type(name="IntendedOutcomeProgress")
class OutcomeProgressNode:
    id: uuid.UUID
    description: str
    baseline: str
    target: str
    measure: str
    target_date: date
    latest_rating: str | None
    progress: list[ProgressNode]


@strawberry.type(name="Accreditation")
class AccreditationNode:
    id: uuid.UUID
    qualification: str
    level: str
    grade: str | None
    awarding_body: str | None
    awarded_on: date
    recorded_by_id: uuid.UUID
    created_at: datetime


@strawberry.type(name="FollowUp")
class FollowUpNode:
    id: uuid.UUID
    kind: FollowUpKind
    due_on: date
    sustained: bool
    note: str | None
    recorded_on: date
    recorded_by_id: uuid.UUID
    created_at: datetime


@strawberry.type(name="FollowUpStatus")
class FollowUpStatusNode:
    kind: FollowUpKind
    due_on: date | None
    recorded: FollowUpNode | None


@strawberry.type(name="AttendanceEntryExit")
class EntryExitNode:
    entry: SummaryNode = strawberry.field(description="The first four weeks of marks")
    exit: SummaryNode = strawberry.field(description="The last four weeks of marks")


@strawberry.type(name="PlacementOutcomes")
class OutcomesNode:
    placement_id: uuid.UUID
    version: int
    status: PlacementStatus
    outcomes: list[OutcomeProgressNode]
    replaced_outcome_progress: list[ProgressNode]
    accreditations: list[AccreditationNode]
    attendance: EntryExitNode
    destination: Destination | None
    end_reason: EndReason | None
    actual_end_date: date | None
    follow_ups: list[FollowUpStatusNode]

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> OutcomesNode:
        def follow_up(f: dict[str, Any] | None) -> FollowUpNode | None:
            if f is None:
                return None
            return FollowUpNode(
                id=uuid.UUID(f["id"]),
                kind=FollowUpKind(f["kind"]),
                due_on=date.fromisoformat(f["due_on"]),
                sustained=f["sustained"],
                note=f["note"],
                recorded_on=date.fromisoformat(f["recorded_on"]),
                recorded_by_id=uuid.UUID(f["recorded_by_id"]),
                created_at=datetime.fromisoformat(f["created_at"]),
            )

        return cls(
            placement_id=uuid.UUID(v["placement_id"]),
            version=v["version"],
            status=PlacementStatus(v["status"]),
            outcomes=[
                OutcomeProgressNode(
                    id=uuid.UUID(o["id"]),
                    description=o["description"],
                    baseline=o["baseline"],
                    target=o["target"],
                    measure=o["measure"],
                    target_date=date.fromisoformat(o["target_date"]),
                    latest_rating=o["latest_rating"],
                    progress=[ProgressNode.from_json(p) for p in o["progress"]],
                )
                for o in v["outcomes"]
            ],
            replaced_outcome_progress=[
                ProgressNode.from_json(p) for p in v["replaced_outcome_progress"]
            ],
            accreditations=[
                AccreditationNode(
                    id=uuid.UUID(a["id"]),
                    qualification=a["qualification"],
                    level=a["level"],
                    grade=a["grade"],
                    awarding_body=a["awarding_body"],
                    awarded_on=date.fromisoformat(a["awarded_on"]),
                    recorded_by_id=uuid.UUID(a["recorded_by_id"]),
                    created_at=datetime.fromisoformat(a["created_at"]),
                )
                for a in v["accreditations"]
            ],
            attendance=EntryExitNode(
                entry=SummaryNode.from_json(v["attendance"]["entry"]),
                exit=SummaryNode.from_json(v["attendance"]["exit"]),
            ),
            destination=Destination(v["destination"]) if v["destination"] else None,
            end_reason=EndReason(v["end_reason"]) if v["end_reason"] else None,
            actual_end_date=_date(v["actual_end_date"]),
            follow_ups=[
                FollowUpStatusNode(
                    kind=FollowUpKind(f["kind"]),
                    due_on=_date(f["due_on"]),
                    recorded=follow_up(f["recorded"]),
                )
                for f in v["follow_ups"]
            ],
        )


@strawberry.type(name="DueFollowUp")
class DueFollowUpNode:
    placement_id: uuid.UUID
    child_id: uuid.UUID
    kind: FollowUpKind
    due_on: date
    overdue: bool
    actual_end_date: date
    destination: Destination | None


@strawberry.type(name="DueFollowUpPage")
class DueFollowUpPage:
    items: list[DueFollowUpNode]
    next_cursor: str | None


@strawberry.input(name="RecordProgressInput")
class ProgressInput:
    rating: str = strawberry.field(description=f"One of: {RATINGS}")
    evidence: str | None = None
    recorded_on: date | None = None


@strawberry.input(name="AccreditationInput")
class AccreditationInput:
    qualification: str
    level: str = strawberry.field(description="entry_1..entry_3 or level_1..level_8")
    awarded_on: date
    grade: str | None = None
    awarding_body: str | None = None


@strawberry.input(name="FollowUpInput")
class FollowUpInput:
    kind: str = strawberry.field(description="six_weeks or next_term_end")
    sustained: bool
    note: str | None = None
    recorded_on: date | None = None


async def _view(info: HubInfo, principal: Principal, placement_id: uuid.UUID) -> OutcomesNode:
    view = await views.outcomes(info.context.unit, principal, placement_id)
    return OutcomesNode.from_json(view)


@strawberry.type
class OutcomesQuery:
    @strawberry.field(
        description="Progress per intended outcome, accreditations, attendance at entry and "
        "exit, destination and follow-ups of a placement"
    )
    async def placement_outcomes(self, info: HubInfo, placement_id: uuid.UUID) -> OutcomesNode:
        return await _view(info, info.context.principal("placements:read"), placement_id)

    @strawberry.field(description="Follow-ups you have still to record, soonest first")
    async def due_follow_ups(
        self, info: HubInfo, within_days: int = 14, first: int = 50, after: str | None = None
    ) -> DueFollowUpPage:
        principal = info.context.principal("placements:read")
        if not 0 <= within_days <= 366:
            raise Invalid.field("withinDays", "withinDays must be between 0 and 366")
        page = await service.due_follow_ups(
            info.context.unit,
            principal,
            within_days=within_days,
            cursor=after,
            limit=checked_page_size(first),
        )
        return DueFollowUpPage(
            items=[
                DueFollowUpNode(
                    placement_id=uuid.UUID(d["placement_id"]),
                    child_id=uuid.UUID(d["child_id"]),
                    kind=FollowUpKind(d["kind"]),
                    due_on=date.fromisoformat(d["due_on"]),
                    overdue=d["overdue"],
                    actual_end_date=date.fromisoformat(d["actual_end_date"]),
                    destination=Destination(d["destination"]) if d["destination"] else None,
                )
                for d in page["items"]
            ],
            next_cursor=page["next_cursor"],
        )


@strawberry.type
class OutcomesMutation:
    @strawberry.mutation(description="Record progress against an intended outcome")
    async def record_progress(
        self,
        info: HubInfo,
        placement_id: uuid.UUID,
        outcome_id: uuid.UUID,
        input: ProgressInput,
        if_match: IfMatch = None,
    ) -> OutcomesNode:
        principal = info.context.principal("outcomes:write")
        data = parse(ProgressIn, present(input, drop_null=True))
        await service.record_progress(
            info.context.writer, principal, placement_id, outcome_id, data, if_match
        )
        return await _view(info, principal, placement_id)

    @strawberry.mutation(description="Record an accreditation achieved")
    async def record_accreditation(
        self,
        info: HubInfo,
        placement_id: uuid.UUID,
        input: AccreditationInput,
        if_match: IfMatch = None,
    ) -> OutcomesNode:
        principal = info.context.principal("outcomes:write")
        data = parse(AccreditationIn, present(input, drop_null=True))
        await service.record_accreditation(
            info.context.writer, principal, placement_id, data, if_match
        )
        return await _view(info, principal, placement_id)

    @strawberry.mutation(
        description="Record whether the destination was sustained (commissioner or home LA)"
    )
    async def record_follow_up(
        self,
        info: HubInfo,
        placement_id: uuid.UUID,
        input: FollowUpInput,
        if_match: IfMatch = None,
    ) -> OutcomesNode:
        principal = info.context.principal("outcomes:write")
        data = parse(FollowUpIn, present(input, drop_null=True))
        await service.record_follow_up(info.context.writer, principal, placement_id, data, if_match)
        return await _view(info, principal, placement_id)
