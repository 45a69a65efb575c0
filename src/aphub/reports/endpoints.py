"""REST for oversight reports: the list of the reports the caller may read, and one
endpoint per report, each generated from the report's declaration."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import Forbidden
from aphub.reports import machinery
from aphub.reports.catalogue import REPORTS
from aphub.reports.declaration import OVERSIGHT_TYPES, Report, ReportQuery, query_model

SCOPE = "reports:read"
TAGS = ("reports",)


class ReportColumn(BaseModel):
    name: str
    description: str
    category: str | None


class ReportEntry(BaseModel):
    report: str
    title: str
    definition: str
    path: str
    filters: list[str]
    period: str | None
    columns: list[ReportColumn]


class ReportList(BaseModel):
    items: list[ReportEntry]


async def list_reports(unit: ReadUnit, principal: Principal) -> dict[str, Any]:
    """The reports for the caller's organisation type, with their definitions and the
    columns it will see."""
    if principal.organisation_type not in OVERSIGHT_TYPES:
        raise Forbidden("Oversight reports are for local authorities, schools and trusts")
    shown = []
    for report in REPORTS:
        if principal.organisation_type not in report.audiences:
            continue
        described = report.describe()
        names = {c.name for c in machinery.shown_columns(report, principal.organisation_type)}
        described["columns"] = [c for c in described["columns"] if c["name"] in names]
        shown.append(described)
    return {"items": shown}


def _handler(report: Report) -> Any:
    model = query_model(report)

    async def handler(
        unit: ReadUnit, principal: Principal, query: ReportQuery, request: Request
    ) -> Response:
        document = await machinery.run(unit, principal, report, query)
        return machinery.respond(
            document, request.headers.get("accept", ""), request.url.path, query
        )

    handler.__name__ = "report_" + report.slug.replace("-", "_")
    handler.__annotations__ = {
        "unit": ReadUnit,
        "principal": Principal,
        "query": model,
        "request": Request,
        "return": Response,
    }
    return handler


def _description(report: Report) -> str:
    period = f" The period (`from`, `to`) filters on {report.period}." if report.period else ""
    return (
        f"{report.definition}{period} JSON, or CSV with a header row with `Accept: text/csv` "
        "(the definition, computed time and next page then in the `Report-Definition`, "
        "`Report-Computed-At` and `Link` headers). Rows name only children and placements "
        "you may read; every read is audited as a read of the children it names."
    )


class ReportPage(BaseModel):
    """One page of a report: what it is, when it was computed, and its rows."""

    report: str
    title: str
    definition: str
    period: str | None = None
    computed_at: str
    as_of: str
    filters: dict[str, Any]
    columns: list[str]
    items: list[dict[str, Any]] = Field(description="One object per row, keyed by column")
    next_cursor: str | None


# the same rows as CSV with a header row, when the caller accepts text/csv
CSV_TOO = {"responses": {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}}

ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/reports",
        list_reports,
        "The oversight reports you may read, with their definitions",
        scope=SCOPE,
        response=ReportList,
        tags=TAGS,
    ),
    *(
        Endpoint(
            "GET",
            report.path,
            _handler(report),
            report.title,
            description=_description(report),
            scope=SCOPE,
            response=ReportPage,
            tags=TAGS,
            openapi_extra=CSV_TOO,
        )
        for report in REPORTS
    ),
]
