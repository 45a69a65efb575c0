"""REST for the data controller: a child's access audit and its subject access export.

Both need the `audit:read` scope and the child's home LA (403 for other organisations that
see the child, 404 for those that do not)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Response

from aphub.auth.principal import Principal
from aphub.children import access_log, export
from aphub.children.schemas import AccessLogPage, ChildExport
from aphub.deps import UoW, principal_with
from aphub.errors import Invalid, problem_responses
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/children", tags=["access audit"])
Auditor = Annotated[Principal, principal_with("audit:read")]


def access_log_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    values = decode_cursor(cursor, 2)
    if not values:
        return None
    try:
        at = datetime.fromisoformat(str(values[0]))
        entry_id = uuid.UUID(str(values[1]))
    except ValueError:
        raise Invalid.field("cursor", "The cursor is not one this hub issued") from None
    if at.tzinfo is None:
        raise Invalid.field("cursor", "The cursor is not one this hub issued")
    return at, entry_id


def encode_access_log_cursor(last: tuple[datetime, uuid.UUID] | None) -> str | None:
    return encode_cursor([last[0].isoformat(), str(last[1])]) if last else None


@router.get(
    "/{child_id}/access-log",
    response_model=AccessLogPage,
    summary="Every access to the child's record, newest first (home LA only)",
    description=(
        "Allowed and denied reads on every surface, with the organisation, client, rules "
        "and categories. The listing is itself audited (action `access_log`)."
    ),
    responses=problem_responses(401, 403, 404, 422),
)
async def list_child_access_log(
    child_id: uuid.UUID,
    uow: UoW,
    principal: Auditor,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    items, last = await access_log.list_access_log(
        uow, principal, child_id, before=access_log_cursor(cursor), limit=limit
    )
    return {"items": items, "next_cursor": encode_access_log_cursor(last)}


@router.get(
    "/{child_id}/export",
    summary="Subject access export: everything held about the child (home LA only)",
    description=(
        "The full record, enrolments, every passport section with its version history, "
        "involvements, consents, placements with intended outcomes, every event about the "
        "child and the complete access audit. Audited as action `export`."
    ),
    responses={200: {"model": ChildExport}, **problem_responses(401, 403, 404, 422)},
    response_class=Response,
)
async def export_child(child_id: uuid.UUID, uow: UoW, principal: Auditor) -> Response:
    document = await export.export_child(uow, principal, child_id)
    return Response(
        orjson.dumps(document, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="child-{child_id}.json"'},
    )
