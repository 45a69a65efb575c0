"""REST for children out of education: exclusions, a child's education status, the open
flags addressed to the caller, and the home LA's children-not-in-school register."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import QueryParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.education import exclusions, flag_views, register, status
from aphub.education.schemas import (
    EducationStatus,
    ExclusionCreate,
    ExclusionRecord,
    ExclusionStatusChange,
    Flag,
)
from aphub.models.education import FLAG_KINDS
from aphub.types import Day

READ = "passports:read"
WRITE = "passports:write"
TAGS = ("children out of education",)


async def list_exclusions(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID
) -> list[dict[str, Any]]:
    return await exclusions.list_exclusions(unit, principal, child_id)


async def record_exclusion(
    unit: WriteUnit, principal: Principal, child_id: uuid.UUID, body: ExclusionCreate
) -> dict[str, Any]:
    return await exclusions.record_exclusion(unit, principal, child_id, body)


async def change_exclusion_status(
    unit: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    exclusion_id: uuid.UUID,
    body: ExclusionStatusChange,
) -> dict[str, Any]:
    return await exclusions.change_status(unit, principal, child_id, exclusion_id, body)


class EducationQuery(QueryParams):
    as_of: Day | None = Field(None, description="The day to compute for (default: today)")


async def child_education(
    unit: ReadUnit, principal: Principal, child_id: uuid.UUID, query: EducationQuery
) -> dict[str, Any]:
    return await status.education_status(unit, principal, child_id, as_of=query.as_of)


class FlagQuery(QueryParams):
    kind: str | None = Field(
        None, pattern="^(" + "|".join(FLAG_KINDS) + ")$", description="One kind of flag"
    )
    limit: int = Field(100, ge=1, le=500)
    cursor: str | None = Field(None, max_length=512)


async def list_education_flags(
    unit: ReadUnit, principal: Principal, query: FlagQuery
) -> dict[str, Any]:
    return await flag_views.open_flags(
        unit, principal, kind=query.kind, cursor=query.cursor, limit=query.limit
    )


class RegisterDocument(BaseModel):
    """The register's rows as at a day, with the legislation they follow."""

    as_of: Day
    legislation: str
    items: list[dict[str, Any]] = Field(
        description="One child each: identity, addresses (null: for the LA to complete), "
        "education arranged, providers and hours, and open out-of-education flags"
    )


class RegisterQuery(QueryParams):
    as_of: Day | None = Field(None, description="The day the register is drawn for (today)")


async def children_not_in_school(
    unit: ReadUnit, principal: Principal, query: RegisterQuery, request: Request
) -> Response:
    document = await register.register(unit, principal, as_of=query.as_of)
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            register.as_csv(document),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="children-not-in-school.csv"'},
        )
    return Response(orjson.dumps(document, default=str), media_type="application/json")


ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/children/{child_id}/exclusions",
        list_exclusions,
        "A child's suspensions and permanent exclusions, newest first",
        scope=READ,
        response=list[ExclusionRecord],
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/exclusions",
        record_exclusion,
        "Record a suspension or permanent exclusion (the excluding school or its trust)",
        description=(
            "The child must be on the school's roll on `first_day`. Reasons are DfE school "
            "census codes (one to three, main reason first). A permanent exclusion that "
            "follows a suspension without a break names it in `converted_from_id`: its days "
            "count towards the local authority's sixth day."
        ),
        scope=WRITE,
        response=ExclusionRecord,
        status=201,
        errors=(409,),
        tags=TAGS,
        events=("exclusion.recorded",),
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/exclusions/{exclusion_id}/status",
        change_exclusion_status,
        "Record a review's outcome (the school, its trust or the home LA)",
        description=(
            "in_force → withdrawn | reinstated | upheld; upheld → "
            "reconsideration_recommended | reconsideration_directed | reinstated; a "
            "reconsideration → upheld | reinstated. Reinstated or withdrawn: the exclusion "
            "stops running on `on`."
        ),
        scope=WRITE,
        response=ExclusionRecord,
        errors=(409,),
        tags=TAGS,
        events=("exclusion.status_changed",),
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/education",
        child_education,
        "The child's education today: duties, provision, days without suitable education",
        description=(
            "The sixth-day duty of each run of exclusions (who owes it, from when, whether "
            "it is met today), the hours provided, and the school days in the last two "
            "years without suitable education, with their history. Needs `education`."
        ),
        scope=READ,
        response=EducationStatus,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/education/flags",
        list_education_flags,
        "Open out-of-education flags addressed to you",
        description=(
            "Sixth-day breaches, part-time timetables past review, children waiting for a "
            "place and children missing education, as the daily job raised them: those "
            "for which you are the responsible body or the home LA."
        ),
        scope=READ,
        response=flag_views.FlagPage,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/reports/children-not-in-school",
        children_not_in_school,
        "Your part of the register of children not in school (home LA)",
        description=(
            f"{register.LEGISLATION}. Residents of compulsory school age in alternative "
            "provision arranged otherwise than at school, or without a school or "
            "placement. JSON, or CSV with `Accept: text/csv`. Fields the hub does not hold "
            "are null for the LA to complete."
        ),
        scope="reports:read",
        response=RegisterDocument,
        tags=TAGS,
        openapi_extra={
            "responses": {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}
        },
    ),
]

__all__ = ["ENDPOINTS", "Flag"]
