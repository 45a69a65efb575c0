"""REST for child records and passports. Reads answer with the sharing layer's shaped JSON
directly (no response-model validation on the hot path); the schemas document the shape."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from aphub.api.endpoint import Endpoint, Handler
from aphub.api.requests import PageParams
from aphub.auth.principal import Principal
from aphub.children import passports, service
from aphub.children.passport_schemas import SECTION_MODELS, Content
from aphub.children.schemas import (
    ChildCreate,
    ChildPage,
    ChildUpdate,
    ChildView,
    EnrolmentIn,
    SectionHistoryPage,
)
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Invalid
from aphub.http import etag
from aphub.pagination import cursor_id, decode_cursor, encode_cursor
from aphub.sharing import gate
from aphub.sharing.fields import CATEGORIES, SECTION_FIELDS
from aphub.types import UPN, NHSNumber, Timestamp

READ = "passports:read"
WRITE = "passports:write"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def child_response(child: dict[str, Any], status: int = 200) -> Response:
    headers = {"ETag": etag(child["version"])}
    if status == 201:
        headers["Location"] = f"/v1/children/{child['id']}"
    return json_response(child, status, headers)


class ChildrenQuery(PageParams):
    upn: UPN | None = Field(None, description="Current or former UPN")
    nhs_number: NHSNumber | None = None
    include: Literal["passport"] | None = Field(
        None,
        description="`passport` to have each child's passport in the page. A list carries "
        "the record, enrolments and access of each child; the passport, the bulk of a "
        "child's data, comes with this or with the child's own read.",
    )
    updated_since: Timestamp | None = Field(
        None,
        description="Only children whose record (identity and status fields) changed at or "
        "after this time; the event feed carries every change",
    )


async def list_children(unit: ReadUnit, principal: Principal, query: ChildrenQuery) -> Response:
    rows, last = await service.list_children(
        unit,
        principal,
        upn=query.upn,
        nhs_number=query.nhs_number,
        after=cursor_id(query.cursor),
        limit=query.limit,
        passport=query.include == "passport",
        updated_since=query.updated_since,
    )
    next_cursor = encode_cursor([str(last)]) if last else None
    return json_response({"items": rows, "next_cursor": next_cursor})


async def create_child(unit: WriteUnit, principal: Principal, body: ChildCreate) -> Response:
    child_id, created = await service.create_child(unit, principal, body)
    child = await gate.read_child(unit, principal, child_id)
    if created:
        return child_response(child, 201)
    response = child_response(child)  # matched: the record the caller enrols into
    response.headers["Content-Location"] = f"/v1/children/{child_id}"
    return response


async def get_child(unit: ReadUnit, principal: Principal, child_id: uuid.UUID) -> Response:
    return child_response(await gate.read_child(unit, principal, child_id))


async def update_child(
    unit: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    body: ChildUpdate,
    if_match: int | None,
) -> Response:
    await service.update_child(unit, principal, child_id, body, if_match)
    return child_response(await gate.read_child(unit, principal, child_id))


class EnrolmentCreated(BaseModel):
    id: uuid.UUID


class EnrolmentEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date


async def add_enrolment(
    unit: WriteUnit, principal: Principal, child_id: uuid.UUID, body: EnrolmentIn
) -> EnrolmentCreated:
    return EnrolmentCreated(id=await service.add_enrolment(unit, principal, child_id, body))


async def end_enrolment(
    unit: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    body: EnrolmentEnd,
) -> None:
    await service.end_enrolment(unit, principal, child_id, enrolment_id, body.end_date)


def _fields_doc(section: str) -> str:
    by_category: dict[str, list[str]] = {}
    for name, category in SECTION_FIELDS[section].items():
        by_category.setdefault(category, []).append(name)
    return "; ".join(f"{', '.join(by_category[c])} ({c})" for c in CATEGORIES if c in by_category)


def _section_update(section: str, model: type[Content]) -> Handler:
    async def update_section(
        unit: WriteUnit,
        principal: Principal,
        child_id: uuid.UUID,
        body: Content,
        if_match: int | None,
    ) -> Response:
        version = await passports.update_section(unit, principal, child_id, section, body, if_match)
        child = await gate.read_child(unit, principal, child_id)
        return json_response(child, headers={"ETag": etag(version)})

    # each section's operation validates and documents its own content model
    update_section.__annotations__ = {**update_section.__annotations__, "body": model}
    update_section.__name__ = update_section.__qualname__ = f"update_passport_{section}"
    return update_section


def before_version(cursor: str | None) -> int | None:
    values = decode_cursor(cursor, 1)
    if not values:
        return None
    if not isinstance(values[0], int) or isinstance(values[0], bool):
        raise Invalid.field("cursor", "The cursor is not one this hub issued")
    return values[0]


SectionName = Annotated[
    str, Path(max_length=32, description=f"One of: {', '.join(SECTION_FIELDS)}")
]


async def get_passport_section_history(
    unit: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    section: SectionName,
    query: PageParams,
) -> Response:
    items, before = await passports.section_history(
        unit, principal, child_id, section, before=before_version(query.cursor), limit=query.limit
    )
    body: dict[str, Any] = {
        "items": items,
        "next_cursor": encode_cursor([before]) if before is not None else None,
    }
    return json_response(body)


TAGS = ("children",)
PASSPORTS = ("passports",)
ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/children",
        list_children,
        "Children you may see, or those matching a UPN / NHS number",
        scope=READ,
        response=ChildPage,
        tags=TAGS,
        hot=True,
    ),
    Endpoint(
        "POST",
        "/v1/children",
        create_child,
        "Record a child, or enrol them when the hub holds them already",
        description=(
            "A school or trust posting a child is enrolling them: when UPN, date of birth "
            "and surname all match a record the hub holds, the roll entries join that "
            "record and the answer is 200 with the record as you may now see it. Otherwise "
            "a record is created (201); a partial match with another record (a UPN, an NHS "
            "number, or names and date of birth alike) is flagged to the home LAs to merge "
            "or mark distinct, and never named to you. A local authority records its own "
            "residents the same way. Fields outside your sharing agreement's write grant "
            "are refused (403 names them)."
        ),
        scope=WRITE,
        response=ChildView,
        status=201,
        tags=TAGS,
        events=("child.created", "child.enrolment_recorded", "child.possible_duplicate"),
        openapi_extra={
            "responses": {
                "200": {
                    "description": "Matched a record the hub holds: enrolled into it",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ChildView"}}
                    },
                }
            }
        },
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}",
        get_child,
        "A child's record and passport, redacted for you",
        scope=READ,
        response=ChildView,
        tags=TAGS,
        hot=True,
    ),
    Endpoint(
        "PATCH",
        "/v1/children/{child_id}",
        update_child,
        "Change a child's identity or status fields you may write",
        scope=WRITE,
        response=ChildView,
        tags=TAGS,
        events=("child.updated",),
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/enrolments",
        add_enrolment,
        "Record a school roll entry",
        scope=WRITE,
        response=EnrolmentCreated,
        status=201,
        tags=TAGS,
        events=("child.enrolment_recorded",),
    ),
    Endpoint(
        "POST",
        "/v1/children/{child_id}/enrolments/{enrolment_id}/end",
        end_enrolment,
        "End a school roll entry (the child left the school)",
        scope=WRITE,
        status=204,
        tags=TAGS,
        events=("child.enrolment_ended",),
    ),
    *(
        Endpoint(
            "PATCH",
            f"/v1/children/{{child_id}}/passport/{section}",
            _section_update(section, model),
            f"Change fields of the {section} passport section",
            description=(
                "Fields present are set, null clears one, absent ones are kept. Each field "
                "is checked against your sharing agreement's write grant (403 names the "
                "fields you may see but not change). `If-Match` is the section's version "
                "(412 when it moved on); the response is the child as you may see it, with "
                "the section's new version as its ETag. Fields (category): "
                f"{_fields_doc(section)}."
            ),
            scope=WRITE,
            response=ChildView,
            tags=PASSPORTS,
            events=("passport.section_updated",),
        )
        for section, model in SECTION_MODELS.items()
    ),
    Endpoint(
        "GET",
        "/v1/children/{child_id}/passport/{section}/history",
        get_passport_section_history,
        "Versions of a passport section, newest first, redacted for you",
        description=(
            "Who changed the section, when, and which fields, with the section as it stood "
            "after each version, showing only the fields you may read. Versions that changed "
            "only fields you may not read are left out; 404 if you may read no field of the "
            "section (or the section does not exist)."
        ),
        scope=READ,
        response=SectionHistoryPage,
        tags=PASSPORTS,
    ),
]
