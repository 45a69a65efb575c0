"""REST for placements. Reads answer with PostgreSQL-built JSON straight through (the
views document the shape); every action honours If-Match and is one transition."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from pydantic import Field
from starlette.responses import Response

from aphub.api.endpoint import Endpoint, Handler
from aphub.api.requests import PageParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import NotFound
from aphub.pagination import cursor_id, encode_cursor
from aphub.placements import history as history_service
from aphub.placements import listing, repository, reviews, service
from aphub.placements.actions import ACTIONS, PlacementAction
from aphub.placements.repository import LockedPlacement
from aphub.placements.schemas import PlacementCreate, PlacementStatus, PlacementVary, ReviewCreate
from aphub.placements.views import HistoryEntry, PlacementPage, PlacementView, Review
from aphub.types import Timestamp


def placement_json_response(
    body: str | None, placement_id: uuid.UUID, status: int = 200, *, version: int | None = None
) -> Response:
    """The placement JSON built by PostgreSQL, with its ETag (404 when there is none).
    The version is read from the body unless the caller knows it already."""
    if body is None:
        raise NotFound("No such placement, or not visible to you")
    if version is None:
        version = orjson.loads(body)["version"]
    headers = {"ETag": f'"{version}"'}
    if status == 201:
        headers["Location"] = f"/v1/placements/{placement_id}"
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def changed_response(p: LockedPlacement) -> Response:
    """The answer to a transition: the placement as the change left it, which the
    transition's own statement returned (declining or ending may end the caller's access,
    and the answer must still show what it did)."""
    return placement_json_response(p.json, p.id, version=p.version)


class PlacementQuery(PageParams):
    status: PlacementStatus | None = None
    child_id: uuid.UUID | None = None
    provider_id: uuid.UUID | None = None
    commissioner_id: uuid.UUID | None = None
    updated_since: Timestamp | None = Field(
        None, description="Only your own placements changed at or after this time"
    )


async def list_placements(unit: ReadUnit, principal: Principal, query: PlacementQuery) -> Response:
    filters = query.model_dump(include={"child_id", "provider_id", "commissioner_id"})
    filters["status"] = query.status.value if query.status else None
    filters["updated_since"] = query.updated_since
    bodies, last = await listing.read_page_json(
        unit, principal, after=cursor_id(query.cursor), limit=query.limit, filters=filters
    )
    next_cursor = orjson.dumps(encode_cursor([str(last)]) if last else None)
    payload = b'{"items":[' + ",".join(bodies).encode() + b'],"next_cursor":' + next_cursor + b"}"
    return Response(payload, media_type="application/json")


async def request_placement(
    unit: WriteUnit, principal: Principal, body: PlacementCreate
) -> Response:
    placement_id = await service.request(unit, principal, body)
    created = await repository.read_json_after_change(unit, placement_id)
    return placement_json_response(created, placement_id, 201)


async def get_placement(unit: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> Response:
    found = await repository.read_json_versioned(unit, principal, placement_id)
    if found is None:
        return placement_json_response(None, placement_id)
    return placement_json_response(found[0], placement_id, version=found[1])


async def vary_placement(
    unit: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: PlacementVary,
    if_match: int | None,
) -> Response:
    return changed_response(await service.vary(unit, principal, placement_id, body, if_match))


async def placement_history(
    unit: ReadUnit, principal: Principal, placement_id: uuid.UUID
) -> list[dict[str, Any]]:
    return await history_service.history(unit, principal, placement_id)


async def list_placement_reviews(
    unit: ReadUnit, principal: Principal, placement_id: uuid.UUID
) -> Response:
    # the reviews as PostgreSQL built them, as `POST .../reviews` answers each
    listed = await reviews.list_reviews(unit, principal, placement_id)
    return Response(orjson.dumps(listed), media_type="application/json")


async def record_placement_review(
    unit: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ReviewCreate,
    if_match: int | None,
) -> Response:
    """The answer to a review: the review as its INSERT returned it."""
    recorded = await reviews.record_review(unit, principal, placement_id, body, if_match)
    return Response(recorded.json, status_code=201, media_type="application/json")


def _acting(action: PlacementAction) -> Handler:
    async def act(
        unit: WriteUnit,
        principal: Principal,
        placement_id: uuid.UUID,
        body: object,
        if_match: int | None,
    ) -> Response:
        return changed_response(await action.act(unit, principal, placement_id, body, if_match))

    act.__annotations__ = {**act.__annotations__, "body": action.body}
    act.__name__ = act.__qualname__ = action.operation_id
    return act


READ = "placements:read"
WRITE = "placements:write"
TAGS = ("placements",)
ACTION_ERRORS = (409,)

ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/placements",
        list_placements,
        "Placements you may see",
        scope=READ,
        response=PlacementPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/placements",
        request_placement,
        "Request a placement (the commission)",
        scope=WRITE,
        response=PlacementView,
        status=201,
        errors=(404, 409),
        tags=TAGS,
        events=("placement.requested",),
    ),
    Endpoint(
        "GET",
        "/v1/placements/{placement_id}",
        get_placement,
        "A placement",
        scope=READ,
        response=PlacementView,
        tags=TAGS,
        hot=True,
    ),
    Endpoint(
        "PATCH",
        "/v1/placements/{placement_id}",
        vary_placement,
        "Vary the plan (hours, pattern, outcomes, exit strategy, reviews, funding)",
        scope=WRITE,
        response=PlacementView,
        errors=ACTION_ERRORS,
        tags=TAGS,
        events=("placement.varied",),
    ),
    *(
        Endpoint(
            "POST",
            f"/v1/placements/{{placement_id}}/{action.name}",
            _acting(action),
            action.summary,
            scope=WRITE,
            response=PlacementView,
            errors=ACTION_ERRORS,
            tags=TAGS,
            hot=True,
            events=(action.event,),
        )
        for action in ACTIONS
    ),
    Endpoint(
        "GET",
        "/v1/placements/{placement_id}/history",
        placement_history,
        "Every transition of the placement, with actor and time",
        scope=READ,
        response=list[HistoryEntry],
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/placements/{placement_id}/reviews",
        list_placement_reviews,
        "Reviews of the placement",
        scope=READ,
        response=list[Review],
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/placements/{placement_id}/reviews",
        record_placement_review,
        "Record a review (progress, views, decision, actions, next review)",
        scope=WRITE,
        response=Review,
        status=201,
        errors=ACTION_ERRORS,
        tags=TAGS,
        hot=True,
        events=("placement.reviewed",),
    ),
]
