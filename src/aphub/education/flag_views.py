"""The open flags addressed to the caller (it is the responsible body or the home LA),
about children the sharing rules let it see: the out-of-education list an LA or a school
works from. Each page is audited as one read naming its children."""

from __future__ import annotations

import uuid
from datetime import date
from functools import cache
from typing import Any

from pydantic import BaseModel

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.education.schemas import Flag
from aphub.errors import Invalid
from aphub.pagination import decode_cursor, encode_cursor
from aphub.sharing import gate
from aphub.sharing.relationships import visible_condition


class FlagPage(BaseModel):
    items: list[Flag]
    next_cursor: str | None


@cache
def _open_sql(organisation_type: str) -> str:
    return (
        "SELECT f.id, f.child_id, f.kind, f.subject_id, f.responsible_id, f.home_la_id, "
        "f.since, f.raised_on, f.cleared_on, f.details FROM education_flags f "
        "WHERE f.cleared_on IS NULL AND (f.responsible_id = :org OR f.home_la_id = :org) "
        "AND (:kind::text IS NULL OR f.kind = :kind) "
        "AND (f.raised_on, f.id) > (:after_day, :after_id) "
        "AND EXISTS (SELECT 1 FROM children c WHERE c.id = f.child_id AND "
        f"{visible_condition(organisation_type, ':org')}) "
        "ORDER BY f.raised_on, f.id LIMIT :limit"
    )


async def open_flags(
    uow: ReadUnit, principal: Principal, *, kind: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    after_day, after_id = date.min, uuid.UUID(int=0)
    values = decode_cursor(cursor, 2)
    if values:
        try:
            after_day, after_id = date.fromisoformat(str(values[0])), uuid.UUID(str(values[1]))
        except ValueError:
            raise Invalid.field("cursor", "The cursor is not one this hub issued") from None
    rows = await uow.fetch(
        _open_sql(principal.organisation_type),
        org=principal.organisation_id,
        kind=kind,
        after_day=after_day,
        after_id=after_id,
        limit=limit + 1,
    )
    page = [dict(r) for r in rows[:limit]]
    await gate.record_list_access(
        uow, principal, [r["child_id"] for r in page], action="education_flags", surface="rest"
    )
    last = page[-1] if len(rows) > limit else None
    return {
        "items": page,
        "next_cursor": encode_cursor([last["raised_on"].isoformat(), str(last["id"])])
        if last
        else None,
    }
