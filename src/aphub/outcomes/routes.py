"""REST for outcomes: each write answers with the placement's outcomes view (and its
new version as the ETag); every POST takes an Idempotency-Key and honours If-Match."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.deps import UoW, principal_with
from aphub.errors import problem_responses
from aphub.http import IfMatch, etag, parse_if_match
from aphub.idempotency import HubRoute
from aphub.outcomes import service
from aphub.outcomes.schemas import (
    AccreditationIn,
    DueFollowUpPage,
    FollowUpIn,
    OutcomesView,
    ProgressIn,
)
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(tags=["outcomes"], route_class=HubRoute)
Reader = Annotated[Principal, principal_with("placements:read")]
Writer = Annotated[Principal, principal_with("outcomes:write")]
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 413, 415, 422)


async def outcomes_response(
    uow: WriteUnit, principal: Principal, placement_id: uuid.UUID, status: int = 200
) -> Response:
    view = await service.outcomes(uow, principal, placement_id)
    headers = {"ETag": etag(view["version"])}
    if status == 201:
        headers["Location"] = f"/v1/placements/{placement_id}/outcomes"
    return Response(
        orjson.dumps(view), status_code=status, media_type="application/json", headers=headers
    )


@router.get(
    "/v1/placements/{placement_id}/outcomes",
    summary="Progress per intended outcome, accreditations, attendance at entry and exit, "
    "destination and follow-ups",
    response_model=OutcomesView,
    responses=problem_responses(401, 403, 404, 422),
)
async def placement_outcomes(placement_id: uuid.UUID, uow: UoW, principal: Reader) -> Response:
    return await outcomes_response(uow, principal, placement_id)


@router.post(
    "/v1/placements/{placement_id}/outcomes/{outcome_id}/progress",
    status_code=201,
    summary="Record progress against an intended outcome (provider, commissioner, home LA)",
    response_model=OutcomesView,
    responses=WRITE_ERRORS,
)
async def record_outcome_progress(
    placement_id: uuid.UUID,
    outcome_id: uuid.UUID,
    body: ProgressIn,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    await service.record_progress(
        uow, principal, placement_id, outcome_id, body, parse_if_match(if_match)
    )
    return await outcomes_response(uow, principal, placement_id, 201)


@router.post(
    "/v1/placements/{placement_id}/accreditations",
    status_code=201,
    summary="Record an accreditation achieved (provider, commissioner, home LA)",
    response_model=OutcomesView,
    responses=WRITE_ERRORS,
)
async def record_accreditation(
    placement_id: uuid.UUID,
    body: AccreditationIn,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    await service.record_accreditation(uow, principal, placement_id, body, parse_if_match(if_match))
    return await outcomes_response(uow, principal, placement_id, 201)


@router.post(
    "/v1/placements/{placement_id}/follow-ups",
    status_code=201,
    summary="Record whether the destination was sustained, six weeks after the end or at "
    "the end of the next term (commissioner or home LA)",
    response_model=OutcomesView,
    responses=WRITE_ERRORS,
)
async def record_follow_up(
    placement_id: uuid.UUID,
    body: FollowUpIn,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    await service.record_follow_up(uow, principal, placement_id, body, parse_if_match(if_match))
    return await outcomes_response(uow, principal, placement_id, 201)


@router.get(
    "/v1/follow-ups/due",
    summary="Follow-ups you (as commissioner or home LA) have still to record, soonest first",
    response_model=DueFollowUpPage,
    responses=problem_responses(401, 403, 422),
)
async def due_follow_ups(
    uow: UoW,
    principal: Reader,
    within_days: Annotated[
        int, Query(ge=0, le=366, description="Also list those due in the next N days")
    ] = 14,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.due_follow_ups(
        uow, principal, within_days=within_days, cursor=cursor, limit=limit
    )
    return Response(orjson.dumps(page), media_type="application/json")
