"""GraphQL for attendance: the same services as REST (returns, reads, summaries,
concerns, the school calendar). A return sent here is limited by the GraphQL body size
(1 MiB, some 8,000 marks); the REST endpoint takes 10,000 marks or CSV."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from aphub.attendance import concerns as concern_service
from aphub.attendance import ingest, service
from aphub.attendance.parsing import rows_from_document
from aphub.attendance.schemas import ConcernKind, HolidayIn, Mark
from aphub.errors import Invalid
from aphub.graphql.context import HubInfo
from aphub.graphql.inputs import parse, present
from aphub.graphql.pages import checked_page_size

strawberry.enum(Mark, name="AttendanceMarkValue")
strawberry.enum(ConcernKind, name="AttendanceConcernKind")

From = Annotated[
    date | None, strawberry.argument(name="from", description="First day of the window")
]
To = Annotated[date | None, strawberry.argument(name="to", description="Last day of the window")]


@strawberry.type(name="AttendanceMark")
class MarkNode:
    placement_id: uuid.UUID
    date: date
    session: str
    mark: Mark
    code: str = strawberry.field(description="The home school's DfE code")
    minutes_late: int | None
    note: str | None
    recorded_at: datetime

    @classmethod
    def from_json(cls, m: dict[str, Any]) -> MarkNode:
        return cls(
            placement_id=uuid.UUID(m["placement_id"]),
            date=date.fromisoformat(m["date"]),
            session=m["session"],
            mark=Mark(m["mark"]),
            code=m["code"],
            minutes_late=m["minutes_late"],
            note=m["note"],
            recorded_at=datetime.fromisoformat(m["recorded_at"]),
        )


@strawberry.type(name="AttendanceMarkPage")
class MarkPage:
    items: list[MarkNode]
    next_cursor: str | None

    @classmethod
    def from_json(cls, page: dict[str, Any]) -> MarkPage:
        return cls(
            items=[MarkNode.from_json(m) for m in page["items"]], next_cursor=page["next_cursor"]
        )


@strawberry.type(name="AttendanceSummary")
class SummaryNode:
    from_date: date | None
    to_date: date | None
    possible: int
    attended: int
    present: int
    late: int
    absent_authorised: int
    absent_unauthorised: int
    unexplained_absences: int
    not_required: int
    percentage: float | None

    @classmethod
    def from_json(cls, s: dict[str, Any]) -> SummaryNode:
        values = dict(s)
        for name in ("from_date", "to_date"):
            values[name] = date.fromisoformat(s[name]) if s[name] else None
        return cls(**{k: values[k] for k in cls.__annotations__})


@strawberry.type(name="AttendanceRowProblem")
class RowProblemNode:
    field: str
    message: str


@strawberry.type(name="AttendanceRowError")
class RowErrorNode:
    row: int
    placement_id: str | None
    date: str | None
    session: str | None
    message: str
    errors: list[RowProblemNode]


@strawberry.type(name="AttendancePlacementCounts")
class PlacementCountsNode:
    placement_id: uuid.UUID
    child_id: uuid.UUID
    marks: int
    inserted: int
    replaced: int


@strawberry.type(name="AttendanceReturnReport")
class ReturnReportNode:
    return_id: uuid.UUID | None
    received: int
    accepted: int
    rejected: int
    inserted: int
    replaced: int
    unchanged: int
    placements: list[PlacementCountsNode]
    errors: list[RowErrorNode]

    @classmethod
    def from_json(cls, r: dict[str, Any]) -> ReturnReportNode:
        return cls(
            return_id=uuid.UUID(r["return_id"]) if r["return_id"] else None,
            received=r["received"],
            accepted=r["accepted"],
            rejected=r["rejected"],
            inserted=r["inserted"],
            replaced=r["replaced"],
            unchanged=r["unchanged"],
            placements=[
                PlacementCountsNode(
                    placement_id=uuid.UUID(p["placement_id"]),
                    child_id=uuid.UUID(p["child_id"]),
                    marks=p["marks"],
                    inserted=p["inserted"],
                    replaced=p["replaced"],
                )
                for p in r["placements"]
            ],
            errors=[
                RowErrorNode(
                    row=e["row"],
                    placement_id=e["placement_id"],
                    date=e["date"],
                    session=e["session"],
                    message=e["message"],
                    errors=[RowProblemNode(**p) for p in e["errors"]],
                )
                for e in r["errors"]
            ],
        )


@strawberry.type(name="AttendanceConcern")
class ConcernNode:
    id: uuid.UUID
    placement_id: uuid.UUID
    child_id: uuid.UUID
    commissioner_id: uuid.UUID
    home_la_id: uuid.UUID
    kind: ConcernKind
    day: date
    window_from: date | None
    possible: int | None
    attended: int | None
    percentage: float | None
    sessions: str | None
    raised_at: datetime

    @classmethod
    def from_json(cls, c: dict[str, Any]) -> ConcernNode:
        return cls(
            id=uuid.UUID(c["id"]),
            placement_id=uuid.UUID(c["placement_id"]),
            child_id=uuid.UUID(c["child_id"]),
            commissioner_id=uuid.UUID(c["commissioner_id"]),
            home_la_id=uuid.UUID(c["home_la_id"]),
            kind=ConcernKind(c["kind"]),
            day=date.fromisoformat(c["day"]),
            window_from=date.fromisoformat(c["window_from"]) if c["window_from"] else None,
            possible=c["possible"],
            attended=c["attended"],
            percentage=c["percentage"],
            sessions=c["sessions"],
            raised_at=datetime.fromisoformat(c["raised_at"]),
        )


@strawberry.type(name="AttendanceConcernPage")
class ConcernPage:
    items: list[ConcernNode]
    next_cursor: str | None


@strawberry.type(name="AttendanceConcernRun")
class ConcernRunNode:
    as_of: datetime
    scope: str
    skipped: bool
    no_return: int
    unexplained_absence: int
    below_90: int
    below_50: int


@strawberry.type(name="SchoolHoliday")
class HolidayNode:
    id: uuid.UUID
    la_id: uuid.UUID
    from_date: date
    to_date: date
    name: str
    created_at: datetime

    @classmethod
    def from_json(cls, h: dict[str, Any]) -> HolidayNode:
        return cls(
            id=uuid.UUID(h["id"]),
            la_id=uuid.UUID(h["la_id"]),
            from_date=date.fromisoformat(h["from_date"]),
            to_date=date.fromisoformat(h["to_date"]),
            name=h["name"],
            created_at=datetime.fromisoformat(h["created_at"]),
        )


@strawberry.type(name="SchoolHolidayPage")
class HolidayPage:
    items: list[HolidayNode]
    next_cursor: str | None


@strawberry.input(name="SchoolHolidayInput")
class HolidayInput:
    from_date: date
    to_date: date
    name: str


@strawberry.type
class AttendanceQuery:
    @strawberry.field(description="A placement's session marks, in date order")
    async def placement_attendance(
        self,
        info: HubInfo,
        placement_id: uuid.UUID,
        from_date: From = None,
        to_date: To = None,
        first: int = 50,
        after: str | None = None,
    ) -> MarkPage:
        principal = info.context.principal("placements:read")
        page = await service.placement_marks(
            info.context.unit,
            principal,
            placement_id,
            from_date=from_date,
            to_date=to_date,
            cursor=after,
            limit=checked_page_size(first),
        )
        return MarkPage.from_json(page)

    @strawberry.field(description="A child's session marks across all their placements")
    async def child_attendance(
        self,
        info: HubInfo,
        child_id: uuid.UUID,
        from_date: From = None,
        to_date: To = None,
        first: int = 50,
        after: str | None = None,
    ) -> MarkPage:
        principal = info.context.principal("placements:read")
        page = await service.child_marks(
            info.context.unit,
            principal,
            child_id,
            from_date=from_date,
            to_date=to_date,
            cursor=after,
            limit=checked_page_size(first),
            surface="graphql",
        )
        return MarkPage.from_json(page)

    @strawberry.field(
        description="Attendance over a window, of one placement or of one child (name one)"
    )
    async def attendance_summary(
        self,
        info: HubInfo,
        placement_id: uuid.UUID | None = None,
        child_id: uuid.UUID | None = None,
        from_date: From = None,
        to_date: To = None,
    ) -> SummaryNode:
        principal = info.context.principal("placements:read")
        uow = info.context.unit
        if (placement_id is None) == (child_id is None):
            raise Invalid.field("placementId", "name exactly one of placementId and childId")
        if placement_id is not None:
            summary = await service.placement_summary(
                uow, principal, placement_id, from_date=from_date, to_date=to_date
            )
        else:
            assert child_id is not None
            summary = await service.child_summary(
                uow, principal, child_id, from_date=from_date, to_date=to_date, surface="graphql"
            )
        return SummaryNode.from_json(summary)

    @strawberry.field(description="Attendance concerns about placements you may see")
    async def attendance_concerns(
        self,
        info: HubInfo,
        placement_id: uuid.UUID | None = None,
        kind: ConcernKind | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ConcernPage:
        principal = info.context.principal("placements:read")
        page = await service.concerns(
            info.context.unit,
            principal,
            filters={"placement_id": placement_id, "kind": kind.value if kind else None},
            cursor=after,
            limit=checked_page_size(first),
        )
        return ConcernPage(
            items=[ConcernNode.from_json(c) for c in page["items"]],
            next_cursor=page["next_cursor"],
        )

    @strawberry.field(description="A local authority's school holidays (default: yours)")
    async def school_holidays(
        self,
        info: HubInfo,
        la_id: uuid.UUID | None = None,
        from_date: From = None,
        first: int = 50,
        after: str | None = None,
    ) -> HolidayPage:
        principal = info.context.principal()
        page = await service.list_holidays(
            info.context.unit,
            principal,
            la_id=la_id,
            from_date=from_date,
            cursor=after,
            limit=checked_page_size(first),
        )
        return HolidayPage(
            items=[HolidayNode.from_json(h) for h in page["items"]],
            next_cursor=page["next_cursor"],
        )


@strawberry.type
class AttendanceMutation:
    @strawberry.mutation(
        description="Return session marks: a list of {placement_id, date, session, mark, "
        "minutes_late, note}. Every valid row is written, every bad row reported."
    )
    async def return_attendance(self, info: HubInfo, marks: JSON) -> ReturnReportNode:
        principal = info.context.principal("attendance:write")
        rows = rows_from_document({"marks": marks})
        report = await ingest.return_attendance(info.context.writer, principal, rows)
        return ReturnReportNode.from_json(report)

    @strawberry.mutation(description="Compute attendance concerns now (an LA: its area)")
    async def run_attendance_concerns(self, info: HubInfo) -> ConcernRunNode:
        principal = info.context.principal()
        result = await concern_service.run_on_demand(info.context.writer, principal)
        return ConcernRunNode(
            as_of=datetime.fromisoformat(result["as_of"]),
            scope=result["scope"],
            skipped=result["skipped"],
            **result["raised"],
        )

    @strawberry.mutation(description="Add a holiday to your school calendar (an LA)")
    async def add_school_holiday(self, info: HubInfo, input: HolidayInput) -> HolidayNode:
        principal = info.context.principal("attendance:write")
        data = parse(HolidayIn, present(input))
        added = await service.add_holiday(info.context.writer, principal, data)
        return HolidayNode.from_json(added)

    @strawberry.mutation(description="Remove a holiday from your school calendar")
    async def remove_school_holiday(self, info: HubInfo, id: uuid.UUID) -> bool:
        principal = info.context.principal("attendance:write")
        await service.remove_holiday(info.context.writer, principal, id)
        return True
