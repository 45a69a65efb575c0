"""What a report is: a declaration the generic machinery serves.

A report's statement is a function of the caller's organisation type (the sharing layer's
conditions differ by type) returning SQL that takes the parameters every report statement
takes (`PARAMETERS`), selects the report's columns plus `key` (a uuid, unique per row:
the keyset the cursor pages by) and `child_ids` (uuid[]: the children the row names, for
the audit), filters by the filters the report declares, and ends with
`ORDER BY key LIMIT :limit` after `key > :after`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from pydantic import Field, create_model, model_validator

from aphub.api.requests import QueryParams
from aphub.pagination import DEFAULT_LIMIT, MAX_LIMIT
from aphub.types import Day

# every report statement may use these; the machinery always binds them all
PARAMETERS = (
    "org",
    "today",
    "date_from",
    "date_to",
    "provider",
    "commissioner",
    "school",
    "after",
    "limit",
)
# the organisation types reports are for: a local authority for its residents and area, a
# school or trust for its commissions and rolls (what the sharing layer lets each see)
OVERSIGHT_TYPES = frozenset({"local_authority", "school", "trust"})
FILTERS = ("period", "provider", "commissioner", "school")


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    # the sharing category the value belongs to; None: not child data (an id the row is
    # already restricted to, a provider's directory facts)
    category: str | None = None
    # a list of values (CSV joins it with "; ")
    many: bool = False


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    definition: str
    columns: tuple[Column, ...]
    statement: Callable[[str], str]
    # what the `from`/`to` period filters on, in words (None: the report takes no period)
    period: str | None = None
    filters: tuple[str, ...] = ("provider", "commissioner", "school")
    audiences: frozenset[str] = OVERSIGHT_TYPES
    # the category the audit records for the children named (what the rows reveal)
    categories: tuple[str, ...] = ("placement",)

    @property
    def path(self) -> str:
        return f"/v1/reports/{self.slug}"

    @property
    def takes(self) -> tuple[str, ...]:
        return (("period",) if self.period else ()) + self.filters

    def describe(self) -> dict[str, Any]:
        return {
            "report": self.slug,
            "title": self.title,
            "definition": self.definition,
            "path": self.path,
            "filters": list(self.takes),
            "period": self.period,
            "columns": [
                {"name": c.name, "description": c.description, "category": c.category}
                for c in self.columns
            ],
        }


class ReportQuery(QueryParams):
    """What every report takes: a page (`limit`, `cursor`)."""

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}"
    )
    cursor: str | None = Field(
        None, max_length=512, description="`next_cursor` of the previous page"
    )


class PeriodQuery(ReportQuery):
    """A page of a report that takes a period."""

    date_from: Day | None = Field(None, alias="from", description="Period start (inclusive)")
    date_to: Day | None = Field(None, alias="to", description="Period end (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> PeriodQuery:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("`to` is before `from`")
        return self


_FILTER_FIELDS: dict[str, Any] = {
    "provider": Field(None, alias="provider_id", description="Only placements with this provider"),
    "commissioner": Field(
        None,
        alias="commissioner_id",
        description="Only placements commissioned by this school, trust or local authority",
    ),
    "school": Field(
        None,
        alias="school_id",
        description="Only placements whose home school, or commissioner, is this school",
    ),
}


@cache
def query_model(report: Report) -> type[ReportQuery]:
    """The report's query model: a page, its period if it has one, its filters; any other
    name is refused (400) and a malformed value is 422."""
    base = PeriodQuery if report.period else ReportQuery
    fields: dict[str, Any] = {}
    for name in report.filters:
        fields[name] = (uuid.UUID | None, _FILTER_FIELDS[name])
    name = "".join(part.title() for part in report.slug.split("-")) + "Query"
    return cast(type[ReportQuery], create_model(name, __base__=base, **fields))
