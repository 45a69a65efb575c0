"""REST for the DfE statutory returns: the AP census (a local authority's) and the school
census module of AP placements arranged by a school.

One document per request, answered three ways: the XML message for submission (the
default, or `Accept: application/xml`), the same rows as CSV for people to check
(`Accept: text/csv`), or JSON with the rows, the exceptions and what was followed
(`Accept: application/json`). Rows that cannot be completed are never dropped unseen:
every answer counts them in `X-Return-Exceptions`, the JSON answer lists them with the
reasons and what to record, and so does the CSV with `part=exceptions`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import QueryParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.returns import render
from aphub.returns.ap_census import ap_census as build_ap_census
from aphub.returns.school_census import school_census_ap as build_school_census_ap
from aphub.returns.spec import AP_CENSUS, SCHOOL_CENSUS_AP, specification
from aphub.types import Day

SCOPE = "reports:read"
TAGS = ("statutory returns",)


class ReturnRow(BaseModel):
    child_id: str
    placement_id: str
    other_placement_ids: list[str] = Field(
        description="The child's other placements in the period (the AP census records one)"
    )
    items: dict[str, str] = Field(description="Each item of the return by element, in order")


class ReturnException(BaseModel):
    child_id: str
    placement_id: str
    kind: Literal["incomplete", "out_of_scope"]
    reasons: list[str]
    actions: list[str] = Field(description="What to record in the hub to complete the row")


class ReturnDocument(BaseModel):
    """A return as JSON: what it covers, what it followed, its rows and its exceptions."""

    return_: str = Field(alias="return")
    census_date: date
    period_start: date
    computed_at: datetime
    specification: dict[str, Any]
    header: dict[str, str]
    warnings: list[str]
    rows: list[ReturnRow]
    exceptions: list[ReturnException]


# census dates the returns can be drawn for (the age scope reaches back 20 years)
CensusDay = Annotated[Day, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
Part = Annotated[
    Literal["return", "exceptions"],
    Field(
        description="CSV of the return's rows, or of the rows that could not be completed "
        "(`exceptions`); JSON always carries both, and XML is the return itself"
    ),
]


class APCensusQuery(QueryParams):
    census_date: CensusDay = Field(description="Census day (the third Thursday in January)")
    part: Part = "return"


class SchoolCensusQuery(QueryParams):
    census_date: CensusDay = Field(description="The school census day")
    period_start: CensusDay | None = Field(
        None, description="The day after the previous census day (default: 20 weeks back)"
    )
    part: Part = "return"


def _answer(key: str, document: dict[str, Any], part: str, request: Request) -> Response:
    spec = specification(key)
    accept = request.headers.get("accept", "")
    name = f"{key.replace('_', '-')}-{document['census_date'].isoformat()}"
    headers = {"X-Return-Exceptions": str(len(document["exceptions"]))}
    json = Response(
        orjson.dumps(document, default=str), media_type="application/json", headers=headers
    )
    if "application/json" in accept:
        return json
    if "text/csv" in accept:
        text = (
            render.exceptions_csv(document)
            if part == "exceptions"
            else render.as_csv(spec, document)
        )
        suffix = "-exceptions" if part == "exceptions" else ""
        headers["Content-Disposition"] = f'attachment; filename="{name}{suffix}.csv"'
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
    if part == "exceptions":  # no XML form: the exceptions are not part of the message
        return json
    headers["Content-Disposition"] = f'attachment; filename="{name}.xml"'
    return Response(render.as_xml(spec, document), media_type="application/xml", headers=headers)


async def ap_census(
    unit: ReadUnit, principal: Principal, query: APCensusQuery, request: Request
) -> Response:
    document = await build_ap_census(unit, principal, query.census_date)
    return _answer(AP_CENSUS, document, query.part, request)


async def school_census_ap(
    unit: ReadUnit, principal: Principal, query: SchoolCensusQuery, request: Request
) -> Response:
    document = await build_school_census_ap(unit, principal, query.census_date, query.period_start)
    return _answer(SCHOOL_CENSUS_AP, document, query.part, request)


_FILES = {
    "responses": {
        "200": {
            "content": {
                "application/xml": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
            "headers": {
                "X-Return-Exceptions": {
                    "description": "How many rows could not be completed (part=exceptions)",
                    "schema": {"type": "integer"},
                }
            },
        }
    }
}

ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/returns/ap-census",
        ap_census,
        "The AP census for a census day (local authority)",
        description=(
            "One record per child whose alternative provision you arranged, or fund for "
            "your residents, in the census period (the day after the previous census day "
            "to census day): the latest or last placement. XML in the message structure "
            "of the AP census 2026 specification as the hub holds it (element names not "
            "yet verified against DfE's text are listed in `specification`), CSV of the "
            "same rows with `Accept: text/csv`, JSON with `Accept: application/json`. "
            "Children read through your sharing agreement and audited as an export."
        ),
        scope=SCOPE,
        response=ReturnDocument,
        tags=TAGS,
        openapi_extra=_FILES,
    ),
    Endpoint(
        "GET",
        "/v1/returns/school-census-ap",
        school_census_ap,
        "The school census module of AP placements you arranged (school)",
        description=(
            "One record per off-site placement you arranged that was open between "
            "`period_start` and `census_date`, for your MIS to load into your school "
            "census. XML by default, CSV with `Accept: text/csv`, JSON with "
            "`Accept: application/json`."
        ),
        scope=SCOPE,
        response=ReturnDocument,
        tags=TAGS,
        openapi_extra=_FILES,
    ),
]
