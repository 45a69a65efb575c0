"""REST for attendance: bulk returns (JSON or CSV), reads per placement and per child,
summaries, concerns and the school calendar."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams, QueryParams
from aphub.attendance import concerns as concern_service
from aphub.attendance import ingest, service
from aphub.attendance.parsing import rows_from_csv, rows_from_json
from aphub.attendance.schemas import (
    CSV_COLUMNS,
    MAX_MARKS,
    ConcernKind,
    ConcernPage,
    ConcernRun,
    HolidayIn,
    HolidayPage,
    HolidayView,
    Mark,
    MarkPage,
    PlacementSummaryPage,
    ReturnReport,
    Summary,
)
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.placements.schemas import PlacementStatus
from aphub.types import Day

RETURN_RULE = (
    "Every valid row is written and every invalid row is reported: row number (1 = the "
    "first mark, the first line after a CSV header), placement_id, date, session and why. "
    "The valid rows are written together, in one transaction with their events, or not at "
    "all: one bad row never holds back the other children's marks (and the concerns "
    "computed from them), and a retry is always safe, since re-posting a session replaces "
    "it. Rows are rejected for a placement that is not the caller's ('not one of your "
    "placements', whether or not it exists), one not started, a date before its start or "
    "after its end, a future date, a session sent twice, or a bad value."
)
_MARK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["placement_id", "date", "session", "mark"],
    "properties": {
        "placement_id": {"type": "string", "format": "uuid"},
        "date": {"type": "string", "format": "date"},
        "session": {"type": "string", "enum": ["am", "pm"]},
        "mark": {"type": "string", "enum": [m.value for m in Mark]},
        "minutes_late": {
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": 300}, {"type": "null"}],
            "description": "Only with a late mark",
        },
        "note": {
            "anyOf": [{"type": "string", "maxLength": 1000}, {"type": "null"}],
            "description": "Why, for an absence (an unauthorised absence without one is "
            "an unexplained absence)",
        },
    },
}
RETURN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["marks"],
                    "properties": {
                        "marks": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_MARKS,
                            "items": _MARK_SCHEMA,
                        }
                    },
                },
                "example": {
                    "marks": [
                        {
                            "placement_id": "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b0c",
                            "date": "2026-09-14",
                            "session": "am",
                            "mark": "late",
                            "minutes_late": 15,
                        },
                        {
                            "placement_id": "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b0c",
                            "date": "2026-09-14",
                            "session": "pm",
                            "mark": "absent_authorised",
                            "note": "Dental appointment",
                        },
                    ]
                },
            },
            "text/csv": {
                # `binary`: a generated client sends the text as it is (a file's content)
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": f"A header line `{','.join(CSV_COLUMNS)}` "
                    "(minutes_late and note may be left out), then one mark a line",
                },
                "example": "placement_id,date,session,mark,minutes_late,note\n"
                "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b0c,2026-09-14,am,late,15,\n",
            },
        },
    }
}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class WindowParams(QueryParams):
    """A window of days: `from` and `to`, each optional."""

    from_date: Day | None = Field(None, alias="from", description="First day of the window")
    to_date: Day | None = Field(None, alias="to", description="Last day of the window")


class WindowPageParams(WindowParams, PageParams):
    """A cursor page of a window of days."""


class SummaryQuery(WindowPageParams):
    status: PlacementStatus | None = None
    provider_id: uuid.UUID | None = None
    commissioner_id: uuid.UUID | None = None
    child_id: uuid.UUID | None = None


class ConcernQuery(PageParams):
    placement_id: uuid.UUID | None = None
    kind: ConcernKind | None = None


class HolidayQuery(PageParams):
    la_id: uuid.UUID | None = Field(None, description="The local authority (default: yours)")
    from_date: Day | None = Field(None, alias="from", description="Holidays ending on or after")


async def return_attendance(unit: WriteUnit, principal: Principal, request: Request) -> Response:
    body = await request.body()
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    read = rows_from_csv if media == "text/csv" else rows_from_json
    return json_response(await ingest.return_read(unit, principal, lambda: read(body)))


async def attendance_summaries(
    unit: ReadUnit, principal: Principal, query: SummaryQuery
) -> Response:
    filters = {
        "status": query.status.value if query.status else None,
        "provider_id": query.provider_id,
        "commissioner_id": query.commissioner_id,
        "child_id": query.child_id,
    }
    page = await service.summaries(
        unit,
        principal,
        from_date=query.from_date,
        to_date=query.to_date,
        filters=filters,
        cursor=query.cursor,
        limit=query.limit,
    )
    return json_response(page)


async def attendance_concerns(
    unit: ReadUnit, principal: Principal, query: ConcernQuery
) -> Response:
    filters = {"placement_id": query.placement_id, "kind": query.kind.value if query.kind else None}
    page = await service.concerns(
        unit, principal, filters=filters, cursor=query.cursor, limit=query.limit
    )
    return json_response(page)


async def run_attendance_concerns(unit: WriteUnit, principal: Principal) -> dict[str, Any]:
    return await concern_service.run_on_demand(unit, principal)


async def placement_attendance(
    unit: ReadUnit, principal: Principal, placement_id: uuid.UUID, query: WindowPageParams
) -> Response:
    page = await service.placement_marks(
        unit,
        principal,
        placement_id,
        from_date=query.from_date,
        to_date=query.to_date,
        cursor=query.cursor,
        limit=query.limit,
    )
    return json_response(page)


async def placement_attendance_summary(
    unit: ReadUnit, principal: Principal, placement_id: uuid.UUID, query: WindowParams
) -> Response:
    summary = await service.placement_summary(
        unit, principal, placement_id, from_date=query.from_date, to_date=query.to_date
    )
    return json_response(summary)


async def child_attendance(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID, query: WindowPageParams
) -> Response:
    page = await service.child_marks(
        unit,
        principal,
        child_id,
        from_date=query.from_date,
        to_date=query.to_date,
        cursor=query.cursor,
        limit=query.limit,
    )
    return json_response(page)


async def child_attendance_summary(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID, query: WindowParams
) -> Response:
    summary = await service.child_summary(
        unit, principal, child_id, from_date=query.from_date, to_date=query.to_date
    )
    return json_response(summary)


async def list_school_holidays(
    unit: ReadUnit, principal: Principal, query: HolidayQuery
) -> Response:
    page = await service.list_holidays(
        unit,
        principal,
        la_id=query.la_id,
        from_date=query.from_date,
        cursor=query.cursor,
        limit=query.limit,
    )
    return json_response(page)


async def add_school_holiday(unit: WriteUnit, principal: Principal, body: HolidayIn) -> Response:
    return json_response(await service.add_holiday(unit, principal, body), 201)


async def remove_school_holiday(
    unit: WriteUnit, principal: Principal, holiday_id: uuid.UUID
) -> None:
    await service.remove_holiday(unit, principal, holiday_id)


READ = "placements:read"
WRITE = "attendance:write"
TAGS = ("attendance",)

ENDPOINTS = [
    Endpoint(
        "POST",
        "/v1/attendance",
        return_attendance,
        f"Return session marks (1 to {MAX_MARKS:,} a request, JSON or CSV)",
        scope=WRITE,
        response=ReturnReport,
        description=RETURN_RULE
        + " Bodies up to 8 MiB are accepted here (APHUB_ATTENDANCE_MAX_BODY_BYTES).",
        tags=TAGS,
        events=("attendance.returned", "attendance.mark_changed"),
        openapi_extra=RETURN_BODY,
    ),
    Endpoint(
        "GET",
        "/v1/attendance/summary",
        attendance_summaries,
        "Attendance summaries of the placements you may see (one per placement)",
        scope=READ,
        response=PlacementSummaryPage,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/attendance/concerns",
        attendance_concerns,
        "Attendance concerns about placements you may see, oldest first",
        scope=READ,
        response=ConcernPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/attendance/concerns/run",
        run_attendance_concerns,
        "Compute attendance concerns now (an LA: its area; the operator: the hub)",
        # any token: the service asks an LA for attendance:write, the operator for
        # organisations:admin
        scope=None,
        response=ConcernRun,
        description="The scheduled job does this every few minutes; each concern is raised "
        "once, however often and however many runs there are.",
        tags=TAGS,
        events=("attendance.concern_raised",),
    ),
    Endpoint(
        "GET",
        "/v1/placements/{placement_id}/attendance",
        placement_attendance,
        "A placement's session marks, in date order, with the home school's codes",
        scope=READ,
        response=MarkPage,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/placements/{placement_id}/attendance/summary",
        placement_attendance_summary,
        "A placement's attendance over a window: possible, attended, percentage",
        scope=READ,
        response=Summary,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/attendance",
        child_attendance,
        "A child's session marks across all their placements (needs the placement "
        "category of the child)",
        scope=READ,
        response=MarkPage,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/attendance/summary",
        child_attendance_summary,
        "A child's attendance over a window, across all their placements",
        scope=READ,
        response=Summary,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/school-holidays",
        list_school_holidays,
        "A local authority's school holidays (weekdays outside them are school days)",
        response=HolidayPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/school-holidays",
        add_school_holiday,
        "Add a holiday to your school calendar (local authorities)",
        scope=WRITE,
        response=HolidayView,
        status=201,
        errors=(404,),
        tags=TAGS,
        events=("school_holiday.added",),
    ),
    Endpoint(
        "DELETE",
        "/v1/school-holidays/{holiday_id}",
        remove_school_holiday,
        "Remove a holiday from your school calendar",
        scope=WRITE,
        status=204,
        tags=TAGS,
        events=("school_holiday.removed",),
    ),
]
