"""REST for attendance: bulk returns (JSON or CSV), reads per placement and per child,
summaries, concerns and the school calendar."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

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
from aphub.deps import AnyPrincipal, UoW, principal_with
from aphub.errors import problem_responses
from aphub.idempotency import HubRoute
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit
from aphub.placements.schemas import PlacementStatus

router = APIRouter(tags=["attendance"], route_class=HubRoute)
Reader = Annotated[Principal, principal_with("placements:read")]
Writer = Annotated[Principal, principal_with("attendance:write")]
From = Annotated[date | None, Query(alias="from", description="First day of the window")]
To = Annotated[date | None, Query(alias="to", description="Last day of the window")]

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
                }
            },
            "text/csv": {
                "schema": {
                    "type": "string",
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


@router.post(
    "/v1/attendance",
    summary=f"Return session marks (1 to {MAX_MARKS:,} a request, JSON or CSV)",
    description=RETURN_RULE
    + " Bodies up to 8 MiB are accepted here (APHUB_ATTENDANCE_MAX_BODY_BYTES).",
    response_model=ReturnReport,
    openapi_extra=RETURN_BODY,
    responses=problem_responses(401, 403, 409, 413, 415, 422),
)
async def return_attendance(request: Request, uow: UoW, principal: Writer) -> Response:
    body = await request.body()
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    read = rows_from_csv if media == "text/csv" else rows_from_json
    return json_response(await ingest.return_read(uow, principal, lambda: read(body)))


@router.get(
    "/v1/attendance/summary",
    summary="Attendance summaries of the placements you may see (one per placement)",
    response_model=PlacementSummaryPage,
    responses=problem_responses(401, 403, 422),
)
async def attendance_summaries(
    uow: UoW,
    principal: Reader,
    from_date: From = None,
    to_date: To = None,
    status: PlacementStatus | None = None,
    provider_id: uuid.UUID | None = None,
    commissioner_id: uuid.UUID | None = None,
    child_id: uuid.UUID | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    filters = {
        "status": status.value if status else None,
        "provider_id": provider_id,
        "commissioner_id": commissioner_id,
        "child_id": child_id,
    }
    page = await service.summaries(
        uow,
        principal,
        from_date=from_date,
        to_date=to_date,
        filters=filters,
        cursor=cursor,
        limit=limit,
    )
    return json_response(page)


@router.get(
    "/v1/attendance/concerns",
    summary="Attendance concerns about placements you may see, oldest first",
    response_model=ConcernPage,
    responses=problem_responses(401, 403, 422),
)
async def attendance_concerns(
    uow: UoW,
    principal: Reader,
    placement_id: uuid.UUID | None = None,
    kind: ConcernKind | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    filters = {"placement_id": placement_id, "kind": kind.value if kind else None}
    page = await service.concerns(uow, principal, filters=filters, cursor=cursor, limit=limit)
    return json_response(page)


@router.post(
    "/v1/attendance/concerns/run",
    summary="Compute attendance concerns now (an LA: its area; the operator: the hub)",
    description="The scheduled job does this every few minutes; each concern is raised "
    "once, however often and however many runs there are.",
    response_model=ConcernRun,
    responses=problem_responses(401, 403, 409),
)
async def run_attendance_concerns(uow: UoW, principal: AnyPrincipal) -> dict[str, Any]:
    return await concern_service.run_on_demand(uow, principal)


@router.get(
    "/v1/placements/{placement_id}/attendance",
    summary="A placement's session marks, in date order, with the home school's codes",
    response_model=MarkPage,
    responses=problem_responses(401, 403, 404, 422),
)
async def placement_attendance(
    placement_id: uuid.UUID,
    uow: UoW,
    principal: Reader,
    from_date: From = None,
    to_date: To = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.placement_marks(
        uow,
        principal,
        placement_id,
        from_date=from_date,
        to_date=to_date,
        cursor=cursor,
        limit=limit,
    )
    return json_response(page)


@router.get(
    "/v1/placements/{placement_id}/attendance/summary",
    summary="A placement's attendance over a window: possible, attended, percentage",
    response_model=Summary,
    responses=problem_responses(401, 403, 404, 422),
)
async def placement_attendance_summary(
    placement_id: uuid.UUID,
    uow: UoW,
    principal: Reader,
    from_date: From = None,
    to_date: To = None,
) -> Response:
    summary = await service.placement_summary(
        uow, principal, placement_id, from_date=from_date, to_date=to_date
    )
    return json_response(summary)


@router.get(
    "/v1/children/{child_id}/attendance",
    summary="A child's session marks across all their placements (needs the placement "
    "category of the child)",
    response_model=MarkPage,
    responses=problem_responses(401, 403, 404, 422),
)
async def child_attendance(
    child_id: uuid.UUID,
    uow: UoW,
    principal: Reader,
    from_date: From = None,
    to_date: To = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.child_marks(
        uow,
        principal,
        child_id,
        from_date=from_date,
        to_date=to_date,
        cursor=cursor,
        limit=limit,
    )
    return json_response(page)


@router.get(
    "/v1/children/{child_id}/attendance/summary",
    summary="A child's attendance over a window, across all their placements",
    response_model=Summary,
    responses=problem_responses(401, 403, 404, 422),
)
async def child_attendance_summary(
    child_id: uuid.UUID,
    uow: UoW,
    principal: Reader,
    from_date: From = None,
    to_date: To = None,
) -> Response:
    summary = await service.child_summary(
        uow, principal, child_id, from_date=from_date, to_date=to_date
    )
    return json_response(summary)


@router.get(
    "/v1/school-holidays",
    summary="A local authority's school holidays (weekdays outside them are school days)",
    response_model=HolidayPage,
    responses=problem_responses(401, 422),
)
async def list_school_holidays(
    uow: UoW,
    principal: AnyPrincipal,
    la_id: Annotated[
        uuid.UUID | None, Query(description="The local authority (default: yours)")
    ] = None,
    from_date: Annotated[
        date | None, Query(alias="from", description="Holidays ending on or after")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_holidays(
        uow, principal, la_id=la_id, from_date=from_date, cursor=cursor, limit=limit
    )
    return json_response(page)


@router.post(
    "/v1/school-holidays",
    status_code=201,
    summary="Add a holiday to your school calendar (local authorities)",
    response_model=HolidayView,
    responses=problem_responses(401, 403, 404, 413, 415, 422),
)
async def add_school_holiday(body: HolidayIn, uow: UoW, principal: Writer) -> Response:
    return json_response(await service.add_holiday(uow, principal, body), 201)


@router.delete(
    "/v1/school-holidays/{holiday_id}",
    status_code=204,
    summary="Remove a holiday from your school calendar",
    responses=problem_responses(401, 403, 404, 422),
)
async def remove_school_holiday(holiday_id: uuid.UUID, uow: UoW, principal: Writer) -> Response:
    await service.remove_holiday(uow, principal, holiday_id)
    return Response(status_code=204)
