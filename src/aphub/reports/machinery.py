"""Serving any report: who may read it, its filters checked, one page of its rows read
in one statement, the children it names audited, and the answer as JSON or CSV.

Rows come from the report's statement already restricted by the sharing layer's
conditions; the columns whose category the caller's sharing agreement does not grant are
dropped here, for every row alike (a column is kept only when every relationship the
caller's organisation type can have grants its category: a report never mixes rows that
show a field with rows that hide it).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.responses import Response

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.education.exclusions import england_today
from aphub.errors import Forbidden, Invalid
from aphub.pagination import decode_cursor, encode_cursor
from aphub.reports.declaration import Column, Report, ReportQuery
from aphub.reports.fragments import OPTIONAL, without_filters
from aphub.sharing import gate
from aphub.sharing.policy import active_policy
from aphub.sharing.relationships import rules_for

NIL = uuid.UUID(int=0)
_AUDIENCE = {
    "local_authority": "local authorities",
    "school": "schools",
    "trust": "trusts",
}
# an organisation a filter names must exist and be of a type that can play that part
_FILTER_TYPES = {
    "provider": ("provider",),
    "commissioner": ("local_authority", "school", "trust"),
    "school": ("school",),
}
_FILTER_NAMES = {
    "provider": "provider_id",
    "commissioner": "commissioner_id",
    "school": "school_id",
}
_ORGANISATION_TYPES = "SELECT id, type FROM organisations WHERE id = ANY(:ids::uuid[])"


def readable_categories(organisation_type: str) -> frozenset[str]:
    """The categories every relationship of this organisation type may read."""
    return _readable(organisation_type, active_policy().version)


@cache
def _readable(organisation_type: str, _version: str) -> frozenset[str]:
    policy = active_policy()
    grants = [
        policy.rules[r.name].read.categories
        for r in rules_for(organisation_type)
        if r.name in policy.rules
    ]
    return frozenset.intersection(*grants) if grants else frozenset()


def shown_columns(report: Report, organisation_type: str) -> tuple[Column, ...]:
    readable = readable_categories(organisation_type)
    return tuple(c for c in report.columns if c.category is None or c.category in readable)


def require_audience(report: Report, principal: Principal) -> None:
    """403 for an organisation the report is not for (a provider, health, a dashboard):
    an empty report would read as good news."""
    if principal.organisation_type not in report.audiences:
        audiences = " and ".join(_AUDIENCE[t] for t in sorted(report.audiences))
        raise Forbidden(f"The report {report.slug} is for {audiences}")


async def _check_filters(uow: ReadUnit, report: Report, query: ReportQuery) -> None:
    """A filter naming no organisation, or one that cannot play the part, is 422: a
    mistyped id must not answer an empty report."""
    named = {f: getattr(query, f) for f in report.filters if getattr(query, f, None)}
    if not named:
        return
    found = {
        r["id"]: r["type"]
        for r in await uow.fetch(_ORGANISATION_TYPES, ids=sorted(set(named.values())))
    }
    for name, organisation_id in named.items():
        if found.get(organisation_id) not in _FILTER_TYPES[name]:
            kinds = " or ".join(_FILTER_TYPES[name])
            raise Invalid.field(_FILTER_NAMES[name], f"No {kinds} has this id")


def _after(cursor: str | None) -> uuid.UUID:
    values = decode_cursor(cursor, 1)
    if not values:
        return NIL
    try:
        return uuid.UUID(str(values[0]))
    except ValueError:
        raise Invalid.field("cursor", "The cursor is not one this hub issued") from None


def _absent(query: ReportQuery) -> frozenset[str]:
    """The optional filters the caller did not give."""
    return frozenset(name for name in OPTIONAL if getattr(query, name, None) is None)


@lru_cache(maxsize=1024)
def _statement(report: Report, organisation_type: str, absent: frozenset[str]) -> str:
    """The report's statement for this caller, without the filters not given: a
    statement is planned once for any values (`aphub.db.database`), and a plan made for
    a filter that may or may not apply is made blind to how many rows anything keeps
    (PostgreSQL then joins every page's rows by scanning whole tables)."""
    return without_filters(report.statement(organisation_type), absent)


def _json_default(value: Any) -> Any:
    """What orjson does not write itself (it writes dates and times as `_plain` would):
    asyncpg's uuids (a subclass orjson does not take for `uuid.UUID`), and numeric
    columns as JSON numbers."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


async def run(
    uow: ReadUnit, principal: Principal, report: Report, query: ReportQuery
) -> dict[str, Any]:
    """One page of the report for the caller, its children audited as read."""
    require_audience(report, principal)
    await _check_filters(uow, report, query)
    today = england_today()
    columns = shown_columns(report, principal.organisation_type)
    rows = await uow.fetch(
        gate.audited_page(
            _statement(report, principal.organisation_type, _absent(query)),
            tuple(c.name for c in columns),
        ),
        **gate.page_audit_params(
            principal,
            query.limit,
            action="report",
            surface="rest",
            categories=report.categories,
        ),
        today=today,
        date_from=getattr(query, "date_from", None),
        date_to=getattr(query, "date_to", None),
        provider=getattr(query, "provider", None),
        commissioner=getattr(query, "commissioner", None),
        school=getattr(query, "school", None),
        after=_after(query.cursor),
        limit=query.limit + 1,
    )
    page = rows[: query.limit]
    return {
        "report": report.slug,
        "title": report.title,
        "definition": report.definition,
        "period": report.period,
        "computed_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "as_of": today.isoformat(),
        "filters": _filters(report, query),
        "columns": [c.name for c in columns],
        "items": _items(page, columns),
        "next_cursor": encode_cursor([str(page[-1]["key"])]) if len(rows) > query.limit else None,
    }


def _items(page: list[Any], columns: tuple[Column, ...]) -> list[dict[str, Any]]:
    """Each row's values, the shown columns in order (then the key, left out), as the
    database gave them: orjson writes them (a page is up to 500 rows of twenty columns;
    converting each value in Python first cost more than the statement)."""
    names = [c.name for c in columns]
    return [dict(zip(names, row, strict=False)) for row in page]


def _filters(report: Report, query: ReportQuery) -> dict[str, Any]:
    given = {
        "from": getattr(query, "date_from", None),
        "to": getattr(query, "date_to", None),
        **{_FILTER_NAMES[f]: getattr(query, f, None) for f in report.filters},
    }
    return {k: _plain(v) for k, v in given.items() if v is not None}


def csv_cell(value: Any) -> str:
    """A JSON value as the CSV shows it: lists joined with "; ", booleans as JSON spells
    them, nothing for null, and text a spreadsheet would run (=, +, -, @) quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(csv_cell(v) for v in value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def as_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(document["columns"])
    for row in document["items"]:
        writer.writerow([csv_cell(_plain(row[c])) for c in document["columns"]])
    return out.getvalue()


def respond(document: dict[str, Any], accept: str, url_path: str, query: ReportQuery) -> Response:
    """JSON, or CSV with a header row when the caller accepts `text/csv`: the definition,
    the time computed and the next page travel in headers then."""
    if "text/csv" not in accept:
        return Response(
            orjson.dumps(document, default=_json_default), media_type="application/json"
        )
    headers = {
        "Content-Disposition": f'attachment; filename="{document["report"]}.csv"',
        "Report-Computed-At": document["computed_at"],
        "Report-Definition": document["definition"],
    }
    if document["next_cursor"]:
        params = {**document["filters"], "limit": query.limit, "cursor": document["next_cursor"]}
        headers["Link"] = f'<{url_path}?{urlencode(params)}>; rel="next"'
        headers["Report-Next-Cursor"] = document["next_cursor"]
    return Response(as_csv(document), media_type="text/csv; charset=utf-8", headers=headers)
