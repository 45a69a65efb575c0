"""REST for what hangs on a child beside its passport: involvements of health and social
care, and consent records."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from aphub.children import consents, involvements
from aphub.children.routes import Reader, Writer, cursor_id
from aphub.children.schemas import (
    Consent,
    ConsentCreate,
    ConsentPage,
    ConsentWithdraw,
    Involvement,
    InvolvementCreate,
    InvolvementEnd,
    InvolvementPage,
)
from aphub.deps import UoW
from aphub.errors import problem_responses
from aphub.idempotency import HubRoute
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit, encode_cursor

router = APIRouter(prefix="/v1/children", tags=["involvements and consents"], route_class=HubRoute)


def page(items: list[dict[str, Any]], last: uuid.UUID | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": encode_cursor([str(last)]) if last else None}


@router.get(
    "/{child_id}/involvements",
    response_model=InvolvementPage,
    summary="Health and social care organisations involved with the child",
    description="Needs a sharing agreement that reads the child's identity (403 otherwise).",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_involvements(
    child_id: uuid.UUID,
    uow: UoW,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    items, last = await involvements.list_involvements(
        uow, principal, child_id, after=cursor_id(cursor), limit=limit
    )
    return page(items, last)


@router.post(
    "/{child_id}/involvements",
    status_code=201,
    response_model=Involvement,
    summary="Record a health or social care organisation's involvement with the child",
    description=(
        "By the child's home local authority or a school with the child on roll. The "
        "organisation sees the child while the involvement is current, in the categories "
        "given (default: all its kind of involvement is granted by the sharing agreement)."
    ),
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def record_involvement(
    child_id: uuid.UUID, body: InvolvementCreate, uow: UoW, principal: Writer
) -> dict[str, Any]:
    return await involvements.record_involvement(uow, principal, child_id, body)


@router.post(
    "/{child_id}/involvements/{involvement_id}/end",
    response_model=Involvement,
    summary="End an involvement (the organisation's access ends with it)",
    description=(
        "By the home local authority, a school with the child on roll, or the involved "
        "organisation itself. 409 if it has already ended or was withdrawn."
    ),
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def end_involvement(
    child_id: uuid.UUID,
    involvement_id: uuid.UUID,
    body: InvolvementEnd,
    uow: UoW,
    principal: Writer,
) -> dict[str, Any]:
    return await involvements.end_involvement(
        uow, principal, child_id, involvement_id, body.end_date
    )


@router.get(
    "/{child_id}/consents",
    response_model=ConsentPage,
    summary="Consents recorded for the child",
    description="Needs a sharing agreement that reads the child's contacts (403 otherwise).",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_consents(
    child_id: uuid.UUID,
    uow: UoW,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    items, last = await consents.list_consents(
        uow, principal, child_id, after=cursor_id(cursor), limit=limit
    )
    return page(items, last)


@router.post(
    "/{child_id}/consents",
    status_code=201,
    response_model=Consent,
    summary="Record a consent given for the child",
    description="By any organisation whose sharing agreement lets it change part of the record.",
    responses=problem_responses(401, 403, 404, 413, 415, 422),
)
async def record_consent(
    child_id: uuid.UUID, body: ConsentCreate, uow: UoW, principal: Writer
) -> dict[str, Any]:
    return await consents.record_consent(uow, principal, child_id, body)


@router.post(
    "/{child_id}/consents/{consent_id}/withdraw",
    response_model=Consent,
    summary="Record that a consent was withdrawn",
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def withdraw_consent(
    child_id: uuid.UUID,
    consent_id: uuid.UUID,
    body: ConsentWithdraw,
    uow: UoW,
    principal: Writer,
) -> dict[str, Any]:
    return await consents.withdraw_consent(uow, principal, child_id, consent_id, body.withdrawn_on)
