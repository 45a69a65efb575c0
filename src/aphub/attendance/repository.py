"""Reading attendance: marks and summaries, one statement each, with the placement
visibility of the sharing layer in the statement wherever a list spans placements."""

from __future__ import annotations

import uuid
from datetime import date
from functools import cache
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy

# An unbounded window end is the far past / far future (marks are never in the future).
EARLIEST = date(1900, 1, 1)
LATEST = date(9999, 12, 31)

MARK_COLUMNS = (
    "m.placement_id, m.date, m.session, m.mark, m.code, m.minutes_late, m.note, m.recorded_at"
)
AGGREGATES = (
    "count(*) FILTER (WHERE m.mark <> 'not_required') AS possible, "
    "count(*) FILTER (WHERE m.mark IN ('present', 'late')) AS attended, "
    "count(*) FILTER (WHERE m.mark = 'present') AS present, "
    "count(*) FILTER (WHERE m.mark = 'late') AS late, "
    "count(*) FILTER (WHERE m.mark = 'absent_authorised') AS absent_authorised, "
    "count(*) FILTER (WHERE m.mark = 'absent_unauthorised') AS absent_unauthorised, "
    "count(*) FILTER (WHERE m.mark = 'absent_unauthorised' AND m.note IS NULL) "
    "AS unexplained_absences, "
    "count(*) FILTER (WHERE m.mark = 'not_required') AS not_required"
)
COUNTS = (
    "possible",
    "attended",
    "present",
    "late",
    "absent_authorised",
    "absent_unauthorised",
    "unexplained_absences",
    "not_required",
)


# Marks hang on a placement and follow its visibility wherever they are read: every
# statement here selects them through placements the caller may see.
@cache
def _visible(organisation_type: str, policy: Policy) -> str:
    return placement_visible(organisation_type, ":org::uuid", policy)


@cache
def _placement_marks_sql(organisation_type: str, policy: Policy) -> str:
    return (
        f"SELECT {MARK_COLUMNS} FROM placements p JOIN attendance_marks m "
        "ON m.placement_id = p.id WHERE p.id = :placement_id "
        f"AND {_visible(organisation_type, policy)} "
        "AND m.date BETWEEN :from_date AND :to_date "
        "AND (m.date, m.session) > (:after_date, :after_session) "
        "ORDER BY m.date, m.session LIMIT :limit"
    )


@cache
def _child_marks_sql(organisation_type: str, policy: Policy) -> str:
    return (
        f"SELECT {MARK_COLUMNS} FROM placements p JOIN attendance_marks m "
        "ON m.placement_id = p.id WHERE p.child_id = :child_id "
        f"AND {_visible(organisation_type, policy)} "
        "AND m.date BETWEEN :from_date AND :to_date "
        "AND (m.date, m.session, m.placement_id) > (:after_date, :after_session, "
        ":after_placement) ORDER BY m.date, m.session, m.placement_id LIMIT :limit"
    )


@cache
def _summary_sql(organisation_type: str, policy: Policy, of: str) -> str:
    """The counts of one placement's (`of` = "placement") or one child's visible
    placements' (`of` = "child") marks in the window."""
    subject = "p.id = :placement_id" if of == "placement" else "p.child_id = :child_id"
    return (
        f"SELECT {AGGREGATES} FROM placements p JOIN attendance_marks m "
        f"ON m.placement_id = p.id WHERE {subject} AND {_visible(organisation_type, policy)} "
        "AND m.date BETWEEN :from_date AND :to_date"
    )


# first and last four weeks of a placement's marks (attendance at entry and at exit)
@cache
def _entry_exit_sql(organisation_type: str, policy: Policy) -> str:
    visible = _visible(organisation_type, policy)
    return (
        "WITH span AS (SELECT min(m.date) AS first, max(m.date) AS last FROM placements p "
        "JOIN attendance_marks m ON m.placement_id = p.id "
        f"WHERE p.id = :placement_id AND {visible}) "
        "SELECT span.first, span.last, e.*, x.* FROM span, "
        f"LATERAL (SELECT {AGGREGATES.replace(' AS ', ' AS entry_')} FROM attendance_marks m "
        "WHERE m.placement_id = :placement_id "
        "AND m.date BETWEEN span.first AND span.first + 27) e, "
        f"LATERAL (SELECT {AGGREGATES.replace(' AS ', ' AS exit_')} FROM attendance_marks m "
        "WHERE m.placement_id = :placement_id AND m.date BETWEEN span.last - 27 AND span.last) x"
    )


SUMMARY_FILTERS = {
    "status": "p.status = :status",
    "provider_id": "p.provider_id = :provider_id::uuid",
    "commissioner_id": "p.commissioner_id = :commissioner_id::uuid",
    "child_id": "p.child_id = :child_id::uuid",
}


@cache
def _summary_page_sql(organisation_type: str, policy: Policy, filters: tuple[str, ...]) -> str:
    """Per-placement summaries of the next page of visible placements: the page is chosen
    first (by id, after `:after`, `:limit` rows), then each placement's marks in the window
    are counted through the primary key."""
    visible = placement_visible(organisation_type, ":org::uuid", policy)
    where = [visible, "p.id > :after::uuid", *(SUMMARY_FILTERS[name] for name in filters)]
    return (
        "SELECT pg.id, pg.child_id, pg.provider_id, pg.status, s.* FROM ("
        "SELECT p.id, p.child_id, p.provider_id, p.status FROM placements p "
        f"WHERE {' AND '.join(where)} ORDER BY p.id LIMIT :limit) pg "
        f"CROSS JOIN LATERAL (SELECT {AGGREGATES} FROM attendance_marks m "
        "WHERE m.placement_id = pg.id AND m.date BETWEEN :from_date AND :to_date) s "
        "ORDER BY pg.id"
    )


def window(from_date: date | None, to_date: date | None) -> tuple[date, date]:
    return from_date or EARLIEST, to_date or LATEST


def mark_json(row: Any) -> dict[str, Any]:
    return {
        "placement_id": str(row["placement_id"]),
        "date": row["date"].isoformat(),
        "session": row["session"],
        "mark": row["mark"],
        "code": row["code"],
        "minutes_late": row["minutes_late"],
        "note": row["note"],
        "recorded_at": row["recorded_at"].isoformat(),
    }


def summary_json(
    row: Any, from_date: date | None, to_date: date | None, prefix: str = ""
) -> dict[str, Any]:
    counts = {name: int(row.get(prefix + name) or 0) for name in COUNTS}
    possible = counts["possible"]
    percentage = round(counts["attended"] * 100 / possible, 1) if possible else None
    return {
        "from_date": from_date.isoformat() if from_date else None,
        "to_date": to_date.isoformat() if to_date else None,
        **counts,
        "percentage": percentage,
    }


async def placement_marks(
    uow: ReadUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    span: tuple[date, date],
    after: tuple[date, str] | None,
    limit: int,
) -> list[Any]:
    after_date, after_session = after or (EARLIEST, "")
    return await uow.fetch(
        _placement_marks_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_id=placement_id,
        from_date=span[0],
        to_date=span[1],
        after_date=after_date,
        after_session=after_session,
        limit=limit + 1,
    )


async def child_marks(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    span: tuple[date, date],
    after: tuple[date, str, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    after_date, after_session, after_placement = after or (EARLIEST, "", uuid.UUID(int=0))
    return await uow.fetch(
        _child_marks_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        child_id=child_id,
        from_date=span[0],
        to_date=span[1],
        after_date=after_date,
        after_session=after_session,
        after_placement=after_placement,
        limit=limit + 1,
    )


async def placement_summary(
    uow: ReadUnit, principal: Principal, placement_id: uuid.UUID, span: tuple[date, date]
) -> Any:
    return await uow.fetchrow(
        _summary_sql(principal.organisation_type, active_policy(), "placement"),
        org=principal.organisation_id,
        placement_id=placement_id,
        from_date=span[0],
        to_date=span[1],
    )


async def child_summary(
    uow: ReadUnit, principal: Principal, child_id: uuid.UUID, span: tuple[date, date]
) -> Any:
    return await uow.fetchrow(
        _summary_sql(principal.organisation_type, active_policy(), "child"),
        org=principal.organisation_id,
        child_id=child_id,
        from_date=span[0],
        to_date=span[1],
    )


@cache
def _entry_exits_sql(organisation_type: str, policy: Policy) -> str:
    visible = _visible(organisation_type, policy)
    return (
        "SELECT p.id AS owner, span.first, span.last, e.*, x.* FROM placements p "
        "CROSS JOIN LATERAL (SELECT min(m.date) AS first, max(m.date) AS last "
        "FROM attendance_marks m WHERE m.placement_id = p.id) span "
        f"CROSS JOIN LATERAL (SELECT {AGGREGATES.replace(' AS ', ' AS entry_')} "
        "FROM attendance_marks m WHERE m.placement_id = p.id "
        "AND m.date BETWEEN span.first AND span.first + 27) e "
        f"CROSS JOIN LATERAL (SELECT {AGGREGATES.replace(' AS ', ' AS exit_')} "
        "FROM attendance_marks m WHERE m.placement_id = p.id "
        "AND m.date BETWEEN span.last - 27 AND span.last) x "
        f"WHERE p.id = ANY(:placement_ids::uuid[]) AND {visible}"
    )


async def entry_exits(
    uow: ReadUnit, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """`entry_exit` of each placement the caller may see, in one statement."""
    rows = await uow.fetch(
        _entry_exits_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_ids=placement_ids,
    )
    return {row["owner"]: row for row in rows}


@cache
def _summaries_sql(organisation_type: str, policy: Policy) -> str:
    visible = _visible(organisation_type, policy)
    return (
        f"SELECT p.id AS owner, s.* FROM placements p CROSS JOIN LATERAL (SELECT {AGGREGATES} "
        "FROM attendance_marks m WHERE m.placement_id = p.id) s "
        f"WHERE p.id = ANY(:placement_ids::uuid[]) AND {visible}"
    )


async def summaries_of(
    uow: ReadUnit, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Every mark so far of each placement the caller may see, counted: one statement."""
    rows = await uow.fetch(
        _summaries_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_ids=placement_ids,
    )
    return {row["owner"]: summary_json(row, None, None) for row in rows}


async def entry_exit(uow: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> Any:
    return await uow.fetchrow(
        _entry_exit_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_id=placement_id,
    )


async def summary_page(
    uow: ReadUnit,
    principal: Principal,
    *,
    after: uuid.UUID | None,
    limit: int,
    span: tuple[date, date],
    filters: dict[str, Any],
) -> list[Any]:
    names = tuple(sorted(k for k, v in filters.items() if v is not None))
    return await uow.fetch(
        _summary_page_sql(principal.organisation_type, active_policy(), names),
        org=principal.organisation_id,
        after=after or uuid.UUID(int=0),
        limit=limit + 1,
        from_date=span[0],
        to_date=span[1],
        **{name: filters[name] for name in names},
    )


CONCERN_FILTERS = {
    "placement_id": "x.placement_id = :placement_id::uuid",
    "kind": "x.kind = :kind",
}


@cache
def _concerns_sql(organisation_type: str, policy: Policy, filters: tuple[str, ...]) -> str:
    visible = placement_visible(organisation_type, ":org::uuid", policy)
    where = [visible, "x.id > :after::uuid", *(CONCERN_FILTERS[name] for name in filters)]
    return (
        "SELECT x.id, x.placement_id, x.child_id, x.commissioner_id, x.home_la_id, x.kind, "
        "x.day, x.window_from, x.possible, x.attended, x.percentage, x.sessions, x.raised_at "
        "FROM attendance_concerns x JOIN placements p ON p.id = x.placement_id "
        f"WHERE {' AND '.join(where)} ORDER BY x.id LIMIT :limit"
    )


def concern_json(row: Any) -> dict[str, Any]:
    percentage = row["percentage"]
    return {
        "id": str(row["id"]),
        "placement_id": str(row["placement_id"]),
        "child_id": str(row["child_id"]),
        "commissioner_id": str(row["commissioner_id"]),
        "home_la_id": str(row["home_la_id"]),
        "kind": row["kind"],
        "day": row["day"].isoformat(),
        "window_from": row["window_from"].isoformat() if row["window_from"] else None,
        "possible": row["possible"],
        "attended": row["attended"],
        "percentage": float(percentage) if percentage is not None else None,
        "sessions": row["sessions"],
        "raised_at": row["raised_at"].isoformat(),
    }


async def concerns_page(
    uow: ReadUnit,
    principal: Principal,
    *,
    after: uuid.UUID | None,
    limit: int,
    filters: dict[str, Any],
) -> list[Any]:
    names = tuple(sorted(k for k, v in filters.items() if v is not None))
    return await uow.fetch(
        _concerns_sql(principal.organisation_type, active_policy(), names),
        org=principal.organisation_id,
        after=after or uuid.UUID(int=0),
        limit=limit + 1,
        **{name: filters[name] for name in names},
    )
