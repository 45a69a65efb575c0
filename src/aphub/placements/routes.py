"""REST for placements. Reads return PostgreSQL-built JSON straight through; the
schemas document the shape. Every POST takes an Idempotency-Key; actions honour If-Match."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Response
from pydantic import BaseModel

from aphub.auth.principal import Principal
from aphub.children.routes import cursor_id
from aphub.db import WriteUnit
from aphub.deps import UoW, principal_with
from aphub.errors import NotFound, problem_responses
from aphub.http import IfMatch, parse_if_match
from aphub.idempotency import HubRoute
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit, encode_cursor
from aphub.placements import history as history_service
from aphub.placements import lifecycle, repository, reviews, service
from aphub.placements.repository import LockedPlacement
from aphub.placements.schemas import (
    EndAction,
    ExtendAction,
    OfferAction,
    PlacementCreate,
    PlacementStatus,
    PlacementVary,
    ProposeEndAction,
    ReasonAction,
    ReviewCreate,
    StartAction,
)
from aphub.placements.views import HistoryEntry, PlacementPage, PlacementView, Review

router = APIRouter(prefix="/v1/placements", tags=["placements"], route_class=HubRoute)
Reader = Annotated[Principal, principal_with("placements:read")]
Writer = Annotated[Principal, principal_with("placements:write")]

ACTION_ERRORS = problem_responses(401, 403, 404, 409, 412, 413, 415, 422)


async def placement_response(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    status: int = 200,
    *,
    changed: bool = False,
) -> Response:
    if changed:
        body: str | None = await repository.read_json_after_change(uow, placement_id)
    else:
        body = await repository.read_json(uow, principal, placement_id)
    return placement_json_response(body, placement_id, status)


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


@router.get(
    "",
    summary="Placements you may see",
    response_class=Response,
    responses={200: {"model": PlacementPage}, **problem_responses(401, 403, 422, 429)},
)
async def list_placements(
    uow: UoW,
    principal: Reader,
    status: PlacementStatus | None = None,
    child_id: uuid.UUID | None = None,
    provider_id: uuid.UUID | None = None,
    commissioner_id: uuid.UUID | None = None,
    updated_since: datetime | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    filters: dict[str, Any] = {
        "status": status.value if status else None,
        "child_id": child_id,
        "provider_id": provider_id,
        "commissioner_id": commissioner_id,
        "updated_since": updated_since,
    }
    bodies, last = await repository.read_page_json(
        uow, principal, after=cursor_id(cursor), limit=limit, filters=filters
    )
    next_cursor = orjson.dumps(encode_cursor([str(last)]) if last else None)
    payload = b'{"items":[' + ",".join(bodies).encode() + b'],"next_cursor":' + next_cursor + b"}"
    return Response(payload, media_type="application/json")


@router.post(
    "",
    status_code=201,
    summary="Request a placement (the commission)",
    response_class=Response,
    responses={
        201: {"model": PlacementView},
        **problem_responses(401, 403, 404, 409, 413, 415, 422),
    },
)
async def request_placement(body: PlacementCreate, uow: UoW, principal: Writer) -> Response:
    placement_id = await service.request(uow, principal, body)
    return await placement_response(uow, principal, placement_id, 201, changed=True)


@router.get(
    "/{placement_id}",
    summary="A placement",
    response_class=Response,
    responses={200: {"model": PlacementView}, **problem_responses(401, 403, 404, 422)},
)
async def get_placement(placement_id: uuid.UUID, uow: UoW, principal: Reader) -> Response:
    return await placement_response(uow, principal, placement_id)


@router.patch(
    "/{placement_id}",
    summary="Vary the plan (hours, pattern, outcomes, exit strategy, reviews, funding)",
    response_class=Response,
    responses={200: {"model": PlacementView}, **ACTION_ERRORS},
)
async def vary_placement(
    placement_id: uuid.UUID,
    body: PlacementVary,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    p = await service.vary(uow, principal, placement_id, body, parse_if_match(if_match))
    return changed_response(p)


def changed_response(p: LockedPlacement) -> Response:
    """The answer to a transition: the placement as the change left it, which the
    transition's own statement returned (declining or ending may end the caller's access,
    and the answer must still show what it did)."""
    return placement_json_response(p.json, p.id, version=p.version)


# Every action runs on statements alone (`WriteUnit`): the FastAPI route below, GraphQL and
# `aphub.fastpath` (which serves these paths first, on a `WriteUnit`) share it.
Action = Callable[[WriteUnit, Principal, uuid.UUID, Any, int | None], Awaitable[LockedPlacement]]


@dataclass(frozen=True, slots=True)
class PlacementAction:
    act: Action
    body: type[BaseModel]
    summary: str


ACTIONS: dict[str, PlacementAction] = {
    "offer": PlacementAction(
        lifecycle.offer, OfferAction, "Provider offers a place (requested → offered)"
    ),
    "decline": PlacementAction(
        lifecycle.decline, ReasonAction, "Provider declines (requested → declined)"
    ),
    "start": PlacementAction(
        lifecycle.start,
        StartAction,
        "Provider starts the placement (offered → active), once every guard is met",
    ),
    "extend": PlacementAction(
        lifecycle.extend,
        ExtendAction,
        "Commissioner extends, as a review decided (active, planned end moves)",
    ),
    "end": PlacementAction(
        lifecycle.end, EndAction, "Commissioner ends with reason and destination (active → ended)"
    ),
    "cancel": PlacementAction(
        lifecycle.cancel, ReasonAction, "Commissioner cancels (requested or offered → cancelled)"
    ),
    "propose-end": PlacementAction(
        lifecycle.propose_end,
        ProposeEndAction,
        "Provider proposes an end to the commissioner (active)",
    ),
}


def _action(name: str, action: PlacementAction) -> None:
    async def endpoint(
        placement_id: uuid.UUID,
        body: BaseModel,
        uow: UoW,
        principal: Writer,
        if_match: IfMatch = None,
    ) -> Response:
        return changed_response(
            await action.act(uow, principal, placement_id, body, parse_if_match(if_match))
        )

    endpoint.__annotations__["body"] = action.body  # each action validates its own body
    endpoint.__name__ = f"{name.replace('-', '_')}_placement"
    router.add_api_route(
        f"/{{placement_id}}/{name}",
        endpoint,
        methods=["POST"],
        summary=action.summary,
        response_class=Response,
        responses={200: {"model": PlacementView}, **ACTION_ERRORS},
        name=endpoint.__name__,
    )


for _name, _placement_action in ACTIONS.items():
    _action(_name, _placement_action)


@router.get(
    "/{placement_id}/history",
    response_model=list[HistoryEntry],
    summary="Every transition of the placement, with actor and time",
    responses=problem_responses(401, 403, 404, 422),
)
async def placement_history(
    placement_id: uuid.UUID, uow: UoW, principal: Reader
) -> list[dict[str, Any]]:
    return await history_service.history(uow, principal, placement_id)


@router.get(
    "/{placement_id}/reviews",
    summary="Reviews of the placement",
    response_class=Response,
    responses={200: {"model": list[Review]}, **problem_responses(401, 403, 404, 422)},
)
async def list_placement_reviews(placement_id: uuid.UUID, uow: UoW, principal: Reader) -> Response:
    # the reviews as PostgreSQL built them, as `POST .../reviews` answers each
    listed = await reviews.list_reviews(uow, principal, placement_id)
    return Response(orjson.dumps(listed), media_type="application/json")


@router.post(
    "/{placement_id}/reviews",
    status_code=201,
    summary="Record a review (progress, views, decision, actions, next review)",
    response_class=Response,
    responses={201: {"model": Review}, **ACTION_ERRORS},
)
async def record_placement_review(
    placement_id: uuid.UUID,
    body: ReviewCreate,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    return await review_response(uow, principal, placement_id, body, parse_if_match(if_match))


async def review_response(
    uow: WriteUnit, principal: Principal, placement_id: uuid.UUID, body: Any, if_match: int | None
) -> Response:
    """The answer to a review: the review as its INSERT returned it."""
    recorded = await reviews.record_review(uow, principal, placement_id, body, if_match)
    return Response(recorded.json, status_code=201, media_type="application/json")
