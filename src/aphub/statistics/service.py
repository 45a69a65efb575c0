"""Dashboard statistics: counts of children in AP by one dimension, for one period and
the whole hub or one local authority, every figure through disclosure control
(`aphub.statistics.disclosure`, which says why the filters are what they are).

The national two-way table (LAs by categories) is computed and protected on every request,
and the answer cut from it: a dashboard's national figures are its column totals, an LA's
figures (or a dashboard's for one LA) its row. So a cell is published or withheld the
same way whoever asks.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.education.exclusions import england_today
from aphub.errors import FieldError, Forbidden, Invalid, NotFound
from aphub.sharing.aggregates import aggregate_population, require_aggregate_reader
from aphub.statistics import disclosure
from aphub.statistics.dimensions import DEFINITIONS, UNKNOWN, Dimension, month_categories

SOURCE = (
    "GSS, Disclosure control policy for tables produced from administrative sources (2014); "
    "DfE, Policy statement on confidentiality (DfE official statistics: standards and "
    "policies, 2019)"
)
RULES = (
    f"Counts of 1 to {disclosure.SUPPRESS_UNDER - 1} are withheld (count null, suppressed "
    "true); zeros are shown. Where a sum (a row, a column, the totals) would otherwise have "
    "exactly one figure withheld, the next smallest is withheld too. A local authority's "
    f"distribution is withheld where it has 1 to {disclosure.MINIMUM_POPULATION - 1} "
    f"children in the period. Every other count, totals included, is rounded to the nearest "
    f"{disclosure.ROUNDING} from the unrounded figures, so cells need not add up to totals."
)
PERIOD = re.compile(r"^(?:(\d{4})/(\d{2})|(\d{4})-(\d{2}))$")
_LOCAL_AUTHORITIES = (
    "SELECT id, la_code, name FROM organisations WHERE type = 'local_authority' "
    "ORDER BY la_code, id"
)


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": self.start, "end": self.end}


def _invalid_period(message: str) -> Invalid:
    return Invalid(f"period: {message}", errors=[FieldError("period", message)])


def academic_year(day: date) -> Period:
    first = day.year if day.month >= 9 else day.year - 1
    return Period(f"{first}/{(first + 1) % 100:02d}", date(first, 9, 1), date(first + 1, 8, 31))


def parse_period(text: str | None, today: date) -> Period:
    """An academic year (`2025/26`, September to August) or a calendar month (`2026-03`);
    the current academic year when not given. A period that has not begun is refused."""
    if text is None:
        return academic_year(today)
    match = PERIOD.match(text)
    if match is None:
        raise _invalid_period("an academic year (2025/26) or a month (2026-03)")
    if match.group(1):
        first, second = int(match.group(1)), int(match.group(2))
        if second != (first + 1) % 100:
            raise _invalid_period("an academic year runs over two consecutive years (2025/26)")
        period = Period(text, date(first, 9, 1), date(first + 1, 8, 31))
    else:
        year, month = int(match.group(3)), int(match.group(4))
        if not 1 <= month <= 12:
            raise _invalid_period("a month is 01 to 12")
        following = date(year + month // 12, month % 12 + 1, 1)
        period = Period(text, date(year, month, 1), following - timedelta(days=1))
    if period.start.year < 2000:
        raise _invalid_period("statistics start in 2000")
    if period.start > today:
        raise _invalid_period("this period has not begun")
    return period


@dataclass(frozen=True)
class LocalAuthority:
    id: uuid.UUID
    la_code: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "la_code": self.la_code, "name": self.name}


def _scope(
    principal: Principal, las: list[LocalAuthority], la_code: str | None
) -> LocalAuthority | None:
    """The LA whose row is answered (None: the national figures, dashboards only)."""
    if principal.organisation_type == "local_authority":
        own = next((la for la in las if la.id == principal.organisation_id), None)
        if own is None or (la_code is not None and la_code != own.la_code):
            raise Forbidden("A local authority reads the statistics of its own area")
        return own
    if la_code is None:
        return None
    found = next((la for la in las if la.la_code == la_code), None)
    if found is None:
        raise NotFound("No local authority with this code in the hub")
    return found


async def _counts(
    unit: ReadUnit,
    principal: Principal,
    dimension: Dimension,
    period: Period,
    categories: tuple[str, ...],
) -> dict[tuple[uuid.UUID, str], int]:
    definition = DEFINITIONS[dimension]
    population = aggregate_population(principal.organisation_type, attendance=definition.attendance)
    rows = await unit.fetch(
        f"WITH pop AS ({population}) SELECT pop.home_la_id AS la, "  # noqa: S608 - no input
        f"{definition.expression} AS category, count(*)::int AS n FROM pop GROUP BY 1, 2",
        period_start=period.start,
        period_end=period.end,
    )
    # a value outside the fixed categories (legacy data) counts as unknown (or `other`),
    # so that every child is in one category and LA populations match across dimensions
    fallback = UNKNOWN if UNKNOWN in categories else categories[-1] if categories else ""
    counts: dict[tuple[uuid.UUID, str], int] = {}
    for r in rows:
        category = r["category"] if not categories or r["category"] in categories else fallback
        counts[(r["la"], category)] = counts.get((r["la"], category), 0) + r["n"]
    return counts


def _label(category: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}", category):
        return date(int(category[:4]), int(category[5:]), 1).strftime("%B %Y")
    return category.replace("_", " ").capitalize()


async def statistics(
    unit: ReadUnit,
    principal: Principal,
    dimension: Dimension,
    *,
    period: str | None,
    local_authority: str | None,
) -> dict[str, Any]:
    require_aggregate_reader(principal.organisation_type)
    today = england_today()
    chosen = parse_period(period, today)
    found = await unit.fetch(_LOCAL_AUTHORITIES)
    las = [LocalAuthority(r["id"], r["la_code"], r["name"]) for r in found]
    scope = _scope(principal, las, local_authority)
    rows = [la.id for la in las]
    definition = DEFINITIONS[dimension]
    if dimension is Dimension.local_authority:
        categories: tuple[str, ...] = ()
    else:
        categories = definition.categories or month_categories(chosen.start, chosen.end)
    counts = await _counts(unit, principal, dimension, chosen, categories)

    if dimension is Dimension.local_authority:
        populations = {r: counts.get((r, str(r)), 0) for r in rows}
        withheld = disclosure.protect_margin(populations)
        values: dict[disclosure.Position, int] = {
            disclosure.row_total(r): v for r, v in populations.items()
        }
        values[disclosure.GRAND] = sum(populations.values())
        table = disclosure.Protected(values, withheld)
        shown = las if scope is None else [scope]
        cells = [
            {"category": la.la_code, "label": la.name}
            | table.figure(disclosure.row_total(la.id)).as_dict()
            for la in shown
        ]
    else:
        table = disclosure.protect(counts, rows, categories)
        cells = [
            {"category": c, "label": _label(c)}
            | table.figure(
                disclosure.column_total(c) if scope is None else disclosure.cell(scope.id, c)
            ).as_dict()
            for c in categories
        ]
    total = disclosure.GRAND if scope is None else disclosure.row_total(scope.id)
    return {
        "dimension": dimension.value,
        "definition": DEFINITIONS[dimension].description,
        "period": chosen.as_dict(),
        "local_authority": None if scope is None else scope.as_dict(),
        "total": table.figure(total).as_dict(),
        "cells": cells,
        "computed_at": datetime.now(UTC),
        "disclosure_control": {"source": SOURCE, "rules": RULES},
    }


def catalogue() -> dict[str, Any]:
    """Every dimension, its definition and categories (months depend on the period)."""
    return {
        "items": [
            {
                "dimension": d.value,
                "definition": DEFINITIONS[d].description,
                "categories": list(DEFINITIONS[d].categories),
            }
            for d in Dimension
        ],
        "disclosure_control": {"source": SOURCE, "rules": RULES},
    }
