"""REST for child records. Reads return the sharing layer's shaped JSON directly (no
response-model validation on the hot path); the schemas document the shape."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from aphub.auth.principal import Principal
from aphub.children import service
from aphub.children.schemas import ChildCreate, ChildPage, ChildUpdate, ChildView, EnrolmentIn
from aphub.db import ReadUnit
from aphub.deps import UoW, principal_with
from aphub.errors import Invalid, problem_responses
from aphub.http import IfMatch, etag, parse_if_match
from aphub.idempotency import HubRoute
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, encode_cursor
from aphub.sharing import gate
from aphub.types import UPN, NHSNumber

router = APIRouter(prefix="/v1/children", tags=["children"], route_class=HubRoute)
Reader = Annotated[Principal, principal_with("passports:read")]
Writer = Annotated[Principal, principal_with("passports:write")]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def child_response(child: dict[str, Any], status: int = 200) -> Response:
    headers = {"ETag": etag(child["version"])}
    if status == 201:
        headers["Location"] = f"/v1/children/{child['id']}"
    return json_response(child, status, headers)


def cursor_id(cursor: str | None) -> uuid.UUID | None:
    values = decode_cursor(cursor, 1)
    if not values:
        return None
    try:
        return uuid.UUID(str(values[0]))
    except ValueError:
        raise Invalid.field("cursor", "The cursor is not one this hub issued") from None


Include = Annotated[
    Literal["passport"] | None,
    Query(
        description="`passport` to have each child's passport in the page. A list carries "
        "the record, enrolments and access of each child; the passport, the bulk of a "
        "child's data, comes with this or with the child's own read."
    ),
]


@router.get(
    "",
    summary="Children you may see, or those matching a UPN / NHS number",
    responses={200: {"model": ChildPage}, **problem_responses(401, 403, 422, 429)},
    response_class=Response,
)
async def list_children(
    uow: UoW,
    principal: Reader,
    upn: Annotated[UPN | None, Query(description="Current or former UPN")] = None,
    nhs_number: NHSNumber | None = None,
    include: Include = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    return await children_page(
        uow,
        principal,
        upn=upn,
        nhs_number=nhs_number,
        cursor=cursor,
        limit=limit,
        passport=include == "passport",
    )


async def children_page(
    uow: ReadUnit,
    principal: Principal,
    *,
    upn: str | None = None,
    nhs_number: str | None = None,
    cursor: str | None,
    limit: int,
    passport: bool,
) -> Response:
    """A page of `GET /v1/children` (this route, and the fast path's for plain pages)."""
    rows, last = await service.list_children(
        uow,
        principal,
        upn=upn,
        nhs_number=nhs_number,
        after=cursor_id(cursor),
        limit=limit,
        passport=passport,
    )
    next_cursor = encode_cursor([str(last)]) if last else None
    return json_response({"items": rows, "next_cursor": next_cursor})


@router.post(
    "",
    status_code=201,
    summary="Record a child (409 with existing_id if already recorded)",
    responses={201: {"model": ChildView}, **problem_responses(401, 403, 409, 413, 415, 422)},
    response_class=Response,
)
async def create_child(body: ChildCreate, uow: UoW, principal: Writer) -> Response:
    child_id = await service.create_child(uow, principal, body)
    return child_response(await gate.read_child(uow, principal, child_id), 201)


@router.get(
    "/{child_id}",
    summary="A child's record and passport, redacted for you",
    responses={200: {"model": ChildView}, **problem_responses(401, 403, 404, 422)},
    response_class=Response,
)
async def get_child(child_id: uuid.UUID, uow: UoW, principal: Reader) -> Response:
    return child_response(await gate.read_child(uow, principal, child_id))


@router.patch(
    "/{child_id}",
    summary="Change a child's identity or status fields you may write",
    responses={200: {"model": ChildView}, **problem_responses(401, 403, 404, 412, 415, 422)},
    response_class=Response,
)
async def update_child(
    child_id: uuid.UUID,
    body: ChildUpdate,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    await service.update_child(uow, principal, child_id, body, parse_if_match(if_match))
    return child_response(await gate.read_child(uow, principal, child_id))


class EnrolmentCreated(BaseModel):
    id: uuid.UUID


class EnrolmentEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date


@router.post(
    "/{child_id}/enrolments",
    status_code=201,
    response_model=EnrolmentCreated,
    summary="Record a school roll entry",
    responses=problem_responses(401, 403, 404, 415, 422),
)
async def add_enrolment(
    child_id: uuid.UUID, body: EnrolmentIn, uow: UoW, principal: Writer
) -> EnrolmentCreated:
    return EnrolmentCreated(id=await service.add_enrolment(uow, principal, child_id, body))


@router.post(
    "/{child_id}/enrolments/{enrolment_id}/end",
    status_code=204,
    summary="End a school roll entry (the child left the school)",
    responses=problem_responses(401, 403, 404, 415, 422),
)
async def end_enrolment(
    child_id: uuid.UUID, enrolment_id: uuid.UUID, body: EnrolmentEnd, uow: UoW, principal: Writer
) -> Response:
    await service.end_enrolment(uow, principal, child_id, enrolment_id, body.end_date)
    return Response(status_code=204)
