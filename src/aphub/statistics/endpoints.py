"""REST for dashboard statistics: the catalogue of dimensions, and one table per dimension
(for dashboards and local authorities, with `reports:read`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from aphub.api.endpoint import Endpoint
from aphub.api.requests import NoParams, QueryParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.sharing.aggregates import require_aggregate_reader
from aphub.statistics import service
from aphub.statistics.dimensions import Dimension

SCOPE = "reports:read"
TAGS = ("statistics",)


class StatisticsQuery(QueryParams):
    period: str | None = Field(
        None,
        max_length=7,
        description="An academic year (`2025/26`, September to August) or a calendar month "
        "(`2026-03`); the current academic year when not given",
        examples=["2025/26"],
    )
    local_authority: str | None = Field(
        None,
        pattern=r"^\d{3}$",
        description="A local authority's 3-digit code: its children only (a local "
        "authority may give only its own, and gets its own when it gives none)",
        examples=["202"],
    )


class Figure(BaseModel):
    count: int | None = Field(description="Rounded to the nearest 5; null when withheld")
    suppressed: bool = Field(description="Withheld by disclosure control")


class Cell(Figure):
    category: str
    label: str


class PeriodView(BaseModel):
    label: str
    start: date
    end: date


class LocalAuthorityRef(BaseModel):
    id: uuid.UUID
    la_code: str
    name: str


class DisclosureControl(BaseModel):
    source: str
    rules: str


class StatisticsTable(BaseModel):
    dimension: Dimension
    definition: str
    period: PeriodView
    local_authority: LocalAuthorityRef | None
    total: Figure
    cells: list[Cell]
    computed_at: datetime
    disclosure_control: DisclosureControl


class DimensionView(BaseModel):
    dimension: Dimension
    definition: str
    categories: list[str] = Field(description="Empty for `local_authority` and `month`")


class Catalogue(BaseModel):
    items: list[DimensionView]
    disclosure_control: DisclosureControl


async def statistics_catalogue(principal: Principal, query: NoParams) -> dict[str, Any]:
    require_aggregate_reader(principal.organisation_type)
    return service.catalogue()


async def statistics_table(
    unit: ReadUnit, principal: Principal, dimension: Dimension, query: StatisticsQuery
) -> dict[str, Any]:
    return await service.statistics(
        unit,
        principal,
        dimension,
        period=query.period,
        local_authority=query.local_authority,
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/statistics",
        statistics_catalogue,
        "What the statistics count children by, and the disclosure control applied",
        scope=SCOPE,
        response=Catalogue,
        errors=(403,),
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/v1/statistics/{dimension}",
        statistics_table,
        "Children in AP during a period, by one dimension, under disclosure control",
        description=(
            "For dashboards (the whole hub, or one local authority) and local authorities "
            "(their own area). Each child is counted once, by their most recent placement "
            "that ran in the period. Counts of 1 to 4 are withheld, as is the next smallest "
            "figure where one withheld figure could be worked out from a total; other counts "
            "are rounded to the nearest 5. See `disclosure_control` in the answer."
        ),
        scope=SCOPE,
        response=StatisticsTable,
        errors=(403, 404),
        tags=TAGS,
    ),
]
