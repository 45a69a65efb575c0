"""The placements an attendance return names: looked up, and each row checked against them.

One statement reads the return's placements that are the caller's own (visibility,
status, dates, the home school's code, whether marks are already held in the return's
window of dates); a row is refused when its placement is not the caller's, has not
started, or does not cover its date. The rows accepted become the values to write, each
with the home school's code of its mark (`check_placements`, or `batch_values` for a
return whose placements cover it throughout).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Protocol

from aphub.attendance.codes import ABSENCE_CODES, ARRANGEMENT_CODE_SQL, ATTENDED, dfe_code
from aphub.attendance.column_checks import Batch
from aphub.attendance.row_checks import MARKS, Rejected, Row
from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy


@cache
def _placements_sql(policy: Policy) -> str:
    visible = placement_visible("provider", ":org::uuid", policy)
    # KEY SHARE: a concurrent end of one of these placements waits for this return, so
    # the dates checked here are the dates when the marks commit.
    return (
        "SELECT p.id::text AS id, p.child_id::text AS child_id, p.status, p.start_date, "
        f"p.actual_end_date, {ARRANGEMENT_CODE_SQL} AS code, "
        # LIMIT: one probe of the primary key per placement, never a scan of every mark
        "(SELECT true FROM attendance_marks m WHERE m.placement_id = p.id "
        "AND m.date BETWEEN :lo::date AND :hi::date LIMIT 1) IS NOT NULL AS has_marks "
        "FROM unnest(:ids::uuid[]) AS named(id) JOIN placements p ON p.id = named.id "
        "JOIN organisations comm ON comm.id = p.commissioner_id "
        f"WHERE p.provider_id = :org::uuid AND {visible} "
        "ORDER BY p.id FOR KEY SHARE OF p"
    )


@dataclass(slots=True)
class NamedPlacement:
    """One of the caller's placements a return names, as the checks and the write need it."""

    child_id: str
    status: str
    start: date
    end: date | None
    code: str
    has_marks: bool  # marks held within the return's window of dates


Window = tuple[date, date] | None  # the first and last date of a return's valid rows


async def named_placements(
    uow: WriteUnit, principal: Principal, ids: list[str], window: Window
) -> dict[str, NamedPlacement]:
    """The caller's placements among `ids` (others are simply not found)."""
    lo, hi = window or (None, None)
    found = await uow.fetch(
        _placements_sql(active_policy()), org=principal.organisation_id, ids=ids, lo=lo, hi=hi
    )
    return {
        r["id"]: NamedPlacement(
            r["child_id"],
            r["status"],
            r["start_date"],
            r["actual_end_date"],
            # a placement not started takes no marks: no code, so every row is refused
            r["code"] if r["status"] in ("active", "ended") else "",
            r["has_marks"],
        )
        for r in found
    }


def _refusal(p: NamedPlacement | None, day: date) -> tuple[str, str] | None:
    if p is None:
        return "placement_id", "not one of your placements"
    if p.status not in ("active", "ended"):
        return "placement_id", f"the placement is {p.status}: it has not started"
    if day < p.start:
        return "date", f"date is before the placement started ({p.start.isoformat()})"
    if p.end is not None and day > p.end:
        return "date", f"date is after the placement ended ({p.end.isoformat()})"
    return None


def covers(placements: dict[str, NamedPlacement], ids: Iterable[str], window: Window) -> bool:
    """Whether each of these placements takes marks on every day of the window (then no
    row of them is refused, and the rows need no checking one by one)."""
    if window is None:
        return False
    lo, hi = window
    for pid in ids:
        p = placements.get(pid)
        if p is None or p.code == "" or p.start > lo or (p.end is not None and p.end < hi):
            return False
    return True


@cache
def _codes(arrangement: str) -> dict[str, str]:
    """The home school's code of each mark, for a placement of this arrangement."""
    return {mark: dfe_code(mark, arrangement) for mark in MARKS}


class Values(Protocol):
    """The values to write, row by row (each a tuple in the order of `ingest.COLUMNS`)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[tuple[Any, ...]]: ...


@dataclass(slots=True)
class BatchValues:
    """The values of a batch all of whose rows are accepted, made as they are read: the
    COPY encodes each row and lets it go, so no list of ten thousand tuples is built."""

    columns: tuple[Sequence[Any], ...]

    def __len__(self) -> int:
        return len(self.columns[0])

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return zip(*self.columns, strict=True)


def batch_values(batch: Batch, placements: dict[str, NamedPlacement]) -> BatchValues:
    codes_of = {pid: _codes(p.code) for pid, p in placements.items()}
    codes = [
        codes_of[pid][mark] for pid, mark in zip(batch.placement_ids, batch.marks, strict=True)
    ]
    return BatchValues(
        (
            batch.placement_ids,
            batch.days,
            batch.sessions,
            batch.marks,
            codes,
            batch.minutes,
            batch.notes,
        )
    )


def check_placements(
    rows: list[Row], placements: dict[str, NamedPlacement], rejected: Rejected
) -> list[tuple[Any, ...]]:
    """The rows of the caller's placements within their dates, as the values to write
    (with the home school's code); the others are rejected."""
    valid: list[tuple[Any, ...]] = []
    attended, absence = ATTENDED, ABSENCE_CODES
    for row, pid, day, session, mark, minutes, note in rows:
        p = placements.get(pid)
        if p is None or p.start > day or (p.end is not None and day > p.end) or p.code == "":
            refusal = _refusal(p, day)
            if refusal is not None:
                sent = {"placement_id": pid, "date": day.isoformat(), "session": session}
                rejected.add(row, sent, *refusal)
                continue
        assert p is not None
        code = p.code if mark in attended else absence[mark]
        valid.append((pid, day, session, mark, code, minutes, note))
    return valid


def window_of(rows: list[Row]) -> Window:
    return (min(r[2] for r in rows), max(r[2] for r in rows)) if rows else None
