"""REST for what hangs on a child beside its passport: involvements of health and social
care, consent records, and, for the data controller (the home LA, with `audit:read`),
the child's access audit and subject access export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams
from aphub.auth.principal import Principal
from aphub.children import access_log, consents, export, involvements, matching
from aphub.children.consent_schemas import Consent, ConsentCreate, ConsentPage, ConsentWithdraw
from aphub.children.endpoints import READ, WRITE, child_response
from aphub.children.involvement_schemas import (
    Involvement,
    InvolvementCreate,
    InvolvementEnd,
    InvolvementPage,
)
from aphub.children.schemas import AccessLogPage, ChildExport, ChildView
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Forbidden, Invalid
from aphub.pagination import cursor_id, decode_cursor, encode_cursor
from aphub.sharing import gate

AUDIT = "audit:read"


def page(items: list[dict[str, Any]], last: uuid.UUID | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": encode_cursor([str(last)]) if last else None}


async def list_involvements(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID, query: PageParams
) -> dict[str, Any]:
    items, last = await involvements.list_involvements(
        unit, principal, child_id, after=cursor_id(query.cursor), limit=query.limit
    )
    return page(items, last)


async def record_involvement(
    unit: WriteUnit, principal: Principal, child_id: uuid.UUID, body: InvolvementCreate
) -> dict[str, Any]:
    return await involvements.record_involvement(unit, principal, child_id, body)


async def end_involvement(
    unit: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    involvement_id: uuid.UUID,
    body: InvolvementEnd,
) -> dict[str, Any]:
    return await involvements.end_involvement(
        unit, principal, child_id, involvement_id, body.end_date
    )


async def list_consents(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID, query: PageParams
) -> dict[str, Any]:
    items, last = await consents.list_consents(
        unit, principal, child_id, after=cursor_id(query.cursor), limit=query.limit
    )
    return page(items, last)


async def record_consent(
    unit: WriteUnit, principal: Principal, child_id: uuid.UUID, body: ConsentCreate
) -> dict[str, Any]:
    return await consents.record_consent(unit, principal, child_id, body)


async def withdraw_consent(
    unit: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    consent_id: uuid.UUID,
    body: ConsentWithdraw,
) -> dict[str, Any]:
    return await consents.withdraw_consent(unit, principal, child_id, consent_id, body.withdrawn_on)


class DuplicateOf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_child_id: uuid.UUID


class PossibleDuplicate(BaseModel):
    id: uuid.UUID
    other_child_id: uuid.UUID
    reasons: list[str]
    flagged_at: str


async def _as_home_la(unit: ReadUnit, principal: Principal, child_id: uuid.UUID) -> None:
    decision = await gate.decide(unit, principal, child_id)
    if "la_home" not in decision.rules:
        raise Forbidden("Only the child's home local authority resolves possible duplicates")


async def list_possible_duplicates(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID
) -> list[dict[str, Any]]:
    await _as_home_la(unit, principal, child_id)
    return await matching.open_duplicates(unit, child_id)


async def merge_duplicate(
    unit: WriteUnit, principal: Principal, child_id: uuid.UUID, body: DuplicateOf
) -> Response:
    await _as_home_la(unit, principal, child_id)
    await matching.merge(unit, principal, child_id, body.other_child_id)
    return child_response(await gate.read_child(unit, principal, child_id))


async def mark_distinct(
    unit: WriteUnit, principal: Principal, child_id: uuid.UUID, body: DuplicateOf
) -> None:
    await _as_home_la(unit, principal, child_id)
    await matching.mark_distinct(unit, principal, child_id, body.other_child_id)


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


async def list_child_access_log(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID, query: PageParams
) -> dict[str, Any]:
    items, last = await access_log.list_access_log(
        unit, principal, child_id, before=access_log_cursor(query.cursor), limit=query.limit
    )
    return {"items": items, "next_cursor": encode_access_log_cursor(last)}


async def export_child(unit: ReadUnit, principal: Principal, child_id: uuid.UUID) -> Response:
    document = await export.export_child(unit, principal, child_id)
    return Response(
        orjson.dumps(document, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="child-{child_id}.json"'},
    )


TAGS = ("involvements and consents",)
AUDIT_TAGS = ("access audit",)
MATCHING_TAGS = ("children",)
ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/children/{child_id}/duplicates",
        list_possible_duplicates,
        "Records that may be the same child (home LA only)",
        description=(
            "Flagged when a record was created with an identifier another record holds, "
            "without the full match (UPN, date of birth, surname) that would have enrolled "
            "into it. Merge them, or mark them distinct."
        ),
        scope=READ,
        response=list[PossibleDuplicate],
        tags=MATCHING_TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/merge",
        merge_duplicate,
        "Merge a possible duplicate into this record (home LA only)",
        description=(
            "The other record's enrolments, placements, involvements, consents, concerns and "
            "the passport sections this one lacks move here; its id keeps answering with "
            "this record. Both records must have this home LA."
        ),
        scope=WRITE,
        response=ChildView,
        errors=(409,),
        tags=MATCHING_TAGS,
        events=("child.merged",),
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/distinct",
        mark_distinct,
        "Mark a possible duplicate as a different child (home LA only)",
        scope=WRITE,
        status=204,
        errors=(409,),
        tags=MATCHING_TAGS,
        events=("child.marked_distinct",),
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/involvements",
        list_involvements,
        "Health and social care organisations involved with the child",
        description="Needs a sharing agreement that reads the child's identity (403 otherwise).",
        scope=READ,
        response=InvolvementPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/involvements",
        record_involvement,
        "Record a health or social care organisation's involvement with the child",
        description=(
            "By the child's home local authority or a school with the child on roll. The "
            "organisation sees the child while the involvement is current, in the categories "
            "given (default: all its kind of involvement is granted by the sharing agreement)."
        ),
        scope=WRITE,
        response=Involvement,
        status=201,
        tags=TAGS,
        events=("involvement.recorded",),
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/involvements/{involvement_id}/end",
        end_involvement,
        "End an involvement (the organisation's access ends with it)",
        description=(
            "By the home local authority, a school with the child on roll, or the involved "
            "organisation itself. 409 if it has already ended or was withdrawn."
        ),
        scope=WRITE,
        response=Involvement,
        tags=TAGS,
        events=("involvement.ended",),
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/consents",
        list_consents,
        "Consents recorded for the child",
        description="Needs a sharing agreement that reads the child's contacts (403 otherwise).",
        scope=READ,
        response=ConsentPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/consents",
        record_consent,
        "Record a consent given for the child",
        description="By any organisation whose sharing agreement lets it change part of the "
        "record.",
        scope=WRITE,
        response=Consent,
        status=201,
        tags=TAGS,
        events=("consent.recorded",),
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/consents/{consent_id}/withdraw",
        withdraw_consent,
        "Record that a consent was withdrawn",
        scope=WRITE,
        response=Consent,
        tags=TAGS,
        events=("consent.withdrawn",),
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/access-log",
        list_child_access_log,
        "Every access to the child's record, newest first (home LA only)",
        description=(
            "Allowed and denied reads on every surface, with the organisation, client, rules "
            "and categories. The listing is itself audited (action `access_log`)."
        ),
        scope=AUDIT,
        response=AccessLogPage,
        tags=AUDIT_TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/export",
        export_child,
        "Subject access export: everything held about the child (home LA only)",
        description=(
            "The full record, enrolments, every passport section with its version history, "
            "involvements, consents, placements with intended outcomes, every event about the "
            "child and the complete access audit. Audited as action `export`."
        ),
        scope=AUDIT,
        response=ChildExport,
        tags=AUDIT_TAGS,
    ),
]
