"""REST for outcomes: each write answers with the placement's outcomes view (and its
new version as the ETag); every POST takes an Idempotency-Key and honours If-Match."""

from __future__ import annotations

import uuid

import orjson
from pydantic import Field
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams
from aphub.api.serve import respond
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.http import etag
from aphub.outcomes import service, views
from aphub.outcomes.schemas import (
    AccreditationIn,
    DueFollowUpPage,
    FollowUpIn,
    OutcomesView,
    ProgressIn,
)


async def outcomes_response(
    unit: ReadUnit, principal: Principal, placement_id: uuid.UUID, status: int = 200
) -> Response:
    view = await views.outcomes(unit, principal, placement_id)
    headers = {"ETag": etag(view["version"])}
    if status == 201:
        headers["Location"] = f"/v1/placements/{placement_id}/outcomes"
    return respond(view, status=status, headers=headers)


class DueFollowUpQuery(PageParams):
    within_days: int = Field(14, ge=0, le=366, description="Also list those due in the next N days")


async def placement_outcomes(
    unit: ReadUnit, principal: Principal, placement_id: uuid.UUID
) -> Response:
    return await outcomes_response(unit, principal, placement_id)


async def record_outcome_progress(
    unit: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    outcome_id: uuid.UUID,
    body: ProgressIn,
    if_match: int | None,
) -> Response:
    await service.record_progress(unit, principal, placement_id, outcome_id, body, if_match)
    return await outcomes_response(unit, principal, placement_id, 201)


async def record_accreditation(
    unit: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: AccreditationIn,
    if_match: int | None,
) -> Response:
    await service.record_accreditation(unit, principal, placement_id, body, if_match)
    return await outcomes_response(unit, principal, placement_id, 201)


async def record_follow_up(
    unit: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: FollowUpIn,
    if_match: int | None,
) -> Response:
    await service.record_follow_up(unit, principal, placement_id, body, if_match)
    return await outcomes_response(unit, principal, placement_id, 201)


async def due_follow_ups(unit: ReadUnit, principal: Principal, query: DueFollowUpQuery) -> Response:
    page = await service.due_follow_ups(
        unit, principal, within_days=query.within_days, cursor=query.cursor, limit=query.limit
    )
    return Response(orjson.dumps(page), media_type="application/json")


READ = "placements:read"
WRITE = "outcomes:write"
TAGS = ("outcomes",)

ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/placements/{placement_id}/outcomes",
        placement_outcomes,
        "Progress per intended outcome, accreditations, attendance at entry and exit, "
        "destination and follow-ups",
        scope=READ,
        response=OutcomesView,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/placements/{placement_id}/outcomes/{outcome_id}/progress",
        record_outcome_progress,
        "Record progress against an intended outcome (provider, commissioner, home LA)",
        scope=WRITE,
        response=OutcomesView,
        status=201,
        tags=TAGS,
        events=("placement.progress_recorded",),
    ),
    Endpoint(
        "POST",
        "/v1/placements/{placement_id}/accreditations",
        record_accreditation,
        "Record an accreditation achieved (provider, commissioner, home LA)",
        scope=WRITE,
        response=OutcomesView,
        status=201,
        tags=TAGS,
        events=("placement.accreditation_recorded",),
    ),
    Endpoint(
        "POST",
        "/v1/placements/{placement_id}/follow-ups",
        record_follow_up,
        "Record whether the destination was sustained, six weeks after the end or at "
        "the end of the next term (commissioner or home LA)",
        scope=WRITE,
        response=OutcomesView,
        status=201,
        tags=TAGS,
        events=("placement.follow_up_recorded",),
    ),
    Endpoint(
        "GET",
        "/v1/follow-ups/due",
        due_follow_ups,
        "Follow-ups you (as commissioner or home LA) have still to record, soonest first",
        scope=READ,
        response=DueFollowUpPage,
        tags=TAGS,
    ),
]
