"""Attendance reads (per placement, per child, summaries) and the school calendar.

Who sees what: a placement's marks and summary follow the sharing layer's placement
visibility (a hidden placement is 404); a child's marks need the child visible AND the
`placement` category (the read is audited like any read of the child's data), and then
cover the child's placements the caller may see: marks follow their placement's
visibility wherever they are read.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import delete, select

from aphub.attendance import repository
from aphub.attendance.schemas import HolidayIn
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Forbidden, Invalid, NotFound
from aphub.events.log import record
from aphub.models import Organisation, SchoolHoliday
from aphub.pagination import decode_cursor, encode_cursor
from aphub.placements import repository as placements
from aphub.placements.service import actor_of
from aphub.sharing import gate


def _bad_cursor() -> Invalid:
    return Invalid.field("cursor", "The cursor is not one this hub issued")


def _check_window(from_date: date | None, to_date: date | None) -> tuple[date, date]:
    if from_date and to_date and to_date < from_date:
        raise Invalid.field("to", "to must not be before from")
    return repository.window(from_date, to_date)


async def require_placement(uow: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> None:
    if not await placements.is_visible(uow, principal, placement_id):
        raise NotFound("No such placement, or not visible to you")


async def require_child(
    uow: ReadUnit, principal: Principal, child_id: uuid.UUID, surface: str
) -> None:
    decision = await gate.decide_audited(
        uow, principal, child_id, action="attendance", surface=surface
    )
    if not decision.can_read("placement"):
        raise Forbidden("Your sharing agreement does not let you read placement data")


def _page(rows: list[Any], limit: int, key: Any) -> tuple[list[dict[str, Any]], str | None]:
    cursor = encode_cursor(key(rows[limit - 1])) if len(rows) > limit else None
    return [repository.mark_json(r) for r in rows[:limit]], cursor


async def placement_marks(
    uow: ReadUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    *,
    from_date: date | None,
    to_date: date | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    span = _check_window(from_date, to_date)
    await require_placement(uow, principal, placement_id)
    after = None
    values = decode_cursor(cursor, 2)
    if values:
        try:
            after = (date.fromisoformat(str(values[0])), str(values[1])[:2])
        except ValueError:
            raise _bad_cursor() from None
    rows = await repository.placement_marks(uow, principal, placement_id, span, after, limit)
    items, next_cursor = _page(rows, limit, lambda r: [r["date"].isoformat(), r["session"]])
    return {"items": items, "next_cursor": next_cursor}


async def child_marks(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    from_date: date | None,
    to_date: date | None,
    cursor: str | None,
    limit: int,
    surface: str = "rest",
) -> dict[str, Any]:
    span = _check_window(from_date, to_date)
    after = None
    values = decode_cursor(cursor, 3)
    if values:
        try:
            after = (
                date.fromisoformat(str(values[0])),
                str(values[1])[:2],
                uuid.UUID(str(values[2])),
            )
        except ValueError:
            raise _bad_cursor() from None
    await require_child(uow, principal, child_id, surface)
    rows = await repository.child_marks(uow, principal, child_id, span, after, limit)
    items, next_cursor = _page(
        rows, limit, lambda r: [r["date"].isoformat(), r["session"], str(r["placement_id"])]
    )
    return {"items": items, "next_cursor": next_cursor}


async def placement_summary(
    uow: ReadUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    *,
    from_date: date | None,
    to_date: date | None,
) -> dict[str, Any]:
    span = _check_window(from_date, to_date)
    await require_placement(uow, principal, placement_id)
    row = await repository.placement_summary(uow, principal, placement_id, span)
    return repository.summary_json(row, from_date, to_date)


async def child_summary(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    from_date: date | None,
    to_date: date | None,
    surface: str = "rest",
) -> dict[str, Any]:
    span = _check_window(from_date, to_date)
    await require_child(uow, principal, child_id, surface)
    row = await repository.child_summary(uow, principal, child_id, span)
    return repository.summary_json(row, from_date, to_date)


async def summaries(
    uow: ReadUnit,
    principal: Principal,
    *,
    from_date: date | None,
    to_date: date | None,
    filters: dict[str, Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    span = _check_window(from_date, to_date)
    after = None
    values = decode_cursor(cursor, 1)
    if values:
        try:
            after = uuid.UUID(str(values[0]))
        except ValueError:
            raise _bad_cursor() from None
    rows = await repository.summary_page(
        uow, principal, after=after, limit=limit, span=span, filters=filters
    )
    items = [
        {
            "placement_id": str(r["id"]),
            "child_id": str(r["child_id"]),
            "provider_id": str(r["provider_id"]),
            "status": r["status"],
            **repository.summary_json(r, from_date, to_date),
        }
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor([str(rows[limit - 1]["id"])]) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


# --- the school calendar ---------------------------------------------------------------


def holiday_json(h: SchoolHoliday) -> dict[str, Any]:
    return {
        "id": str(h.id),
        "la_id": str(h.la_id),
        "from_date": h.from_date.isoformat(),
        "to_date": h.to_date.isoformat(),
        "name": h.name,
        "created_at": h.created_at.isoformat(),
    }


async def list_holidays(
    uow: ReadUnit,
    principal: Principal,
    *,
    la_id: uuid.UUID | None,
    from_date: date | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A local authority's holidays (public calendar data: any authenticated caller),
    in date order; `la_id` defaults to the caller's own when it is an LA."""
    if la_id is None:
        if principal.organisation_type != "local_authority":
            raise Invalid.field("la_id", "la_id is required (the local authority's id)")
        la_id = principal.organisation_id
    query = select(SchoolHoliday).where(SchoolHoliday.la_id == la_id)
    if from_date is not None:
        query = query.where(SchoolHoliday.to_date >= from_date)
    values = decode_cursor(cursor, 2)
    if values:
        try:
            after = (date.fromisoformat(str(values[0])), uuid.UUID(str(values[1])))
        except ValueError:
            raise _bad_cursor() from None
        query = query.where(
            (SchoolHoliday.from_date > after[0])
            | ((SchoolHoliday.from_date == after[0]) & (SchoolHoliday.id > after[1]))
        )
    query = query.order_by(SchoolHoliday.from_date, SchoolHoliday.id).limit(limit + 1)
    rows = list(await uow.session.scalars(query))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.from_date.isoformat(), str(last.id)])
    return {"items": [holiday_json(h) for h in rows[:limit]], "next_cursor": next_cursor}


def _require_la(principal: Principal) -> None:
    if principal.organisation_type != "local_authority":
        raise Forbidden("Only a local authority manages its school calendar")


async def add_holiday(uow: WriteUnit, principal: Principal, body: HolidayIn) -> dict[str, Any]:
    _require_la(principal)
    la = await uow.session.get(Organisation, principal.organisation_id)
    if la is None:
        raise NotFound("No such local authority")
    holiday = SchoolHoliday(
        la_id=principal.organisation_id,
        from_date=body.from_date,
        to_date=body.to_date,
        name=body.name,
    )
    uow.session.add(holiday)
    await uow.session.flush()
    await uow.session.refresh(holiday)
    record(
        uow,
        type="school_holiday.added",
        subject_type="school_holiday",
        subject_id=holiday.id,
        actor=actor_of(principal),
        data={
            "la_id": str(holiday.la_id),
            "from_date": body.from_date.isoformat(),
            "to_date": body.to_date.isoformat(),
            "name": body.name,
        },
    )
    return holiday_json(holiday)


async def remove_holiday(uow: WriteUnit, principal: Principal, holiday_id: uuid.UUID) -> None:
    _require_la(principal)
    removed = await uow.session.execute(
        delete(SchoolHoliday)
        .where(SchoolHoliday.id == holiday_id, SchoolHoliday.la_id == principal.organisation_id)
        .returning(SchoolHoliday.from_date, SchoolHoliday.to_date, SchoolHoliday.name)
    )
    row = removed.one_or_none()
    if row is None:
        raise NotFound("No such holiday in your calendar")
    record(
        uow,
        type="school_holiday.removed",
        subject_type="school_holiday",
        subject_id=holiday_id,
        actor=actor_of(principal),
        data={
            "la_id": str(principal.organisation_id),
            "from_date": row.from_date.isoformat(),
            "to_date": row.to_date.isoformat(),
            "name": row.name,
        },
    )


async def concerns(
    uow: ReadUnit,
    principal: Principal,
    *,
    filters: dict[str, Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """Concerns about placements the caller may see, oldest first."""
    after = None
    values = decode_cursor(cursor, 1)
    if values:
        try:
            after = uuid.UUID(str(values[0]))
        except ValueError:
            raise _bad_cursor() from None
    rows = await repository.concerns_page(uow, principal, after=after, limit=limit, filters=filters)
    next_cursor = encode_cursor([str(rows[limit - 1]["id"])]) if len(rows) > limit else None
    return {"items": [repository.concern_json(r) for r in rows[:limit]], "next_cursor": next_cursor}
