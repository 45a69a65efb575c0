"""`GET /v1/oversight/overview`: the oversight page's figures as JSON, for a local
authority's own dashboards and so that every number on the page can be checked."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from aphub.api.endpoint import Endpoint
from aphub.api.requests import QueryParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.education.exclusions import england_today
from aphub.oversight import overview
from aphub.types import Day


class Headline(BaseModel):
    children_in_ap: int = Field(description="Children with an active placement today")
    active_placements: int
    not_started: int = Field(description="Placements requested or offered, not yet started")
    unregistered: int = Field(description="Active placements at unregistered providers")
    out_of_area: int = Field(description="Active placements at a provider outside the home LA")
    past_planned_end: int
    review_overdue: int
    part_time: int = Field(description="Active placements below the area's full time")
    open_flags: int = Field(description="Open out-of-education flags addressed to you")
    without_education: int = Field(
        description="Children with an open sixth-day breach or missing-education flag"
    )


class Month(BaseModel):
    month: str = Field(description="YYYY-MM")
    children: int = Field(description="Children with a placement active at some time in it")
    by_reason: dict[str, int]


class Action(BaseModel):
    kind: str
    child_id: uuid.UUID
    child_name: str | None = Field(description="When your categories include the identity")
    placement_id: uuid.UUID | None
    since: date
    school_days: int | None = Field(description="School days without education, to today")
    percentage: float | None = None


class Overview(BaseModel):
    as_of: date
    computed_at: str
    headline: Headline
    children_by_month: list[Month]
    reasons: list[str]
    attendance_bands: dict[str, int] = Field(
        description="Active placements by attendance over the last six weeks"
    )
    days_without_education: dict[str, int] = Field(
        description="Open flags without education by school days since they began"
    )
    needing_action: list[Action]


class OverviewQuery(QueryParams):
    as_of: Day | None = Field(None, description="Figures as at this day (today)")


async def get_overview(unit: ReadUnit, principal: Principal, query: OverviewQuery) -> Any:
    return await overview.overview(unit, principal, query.as_of or england_today())


ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/oversight/overview",
        get_overview,
        "Your area at a glance (local authorities)",
        description=(
            "The figures of the oversight page: children in AP, by month and reason, "
            "attendance bands, unregistered and out-of-area use, days without education, "
            "and the children needing action, counted over the placements and flags you "
            "may see. The children named are audited as a list read."
        ),
        scope="reports:read",
        response=Overview,
        errors=(403,),
        tags=("oversight",),
    ),
]
