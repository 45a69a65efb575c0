"""Checking an attendance return row by row: every problem of every row, by row number.

Rows are validated here by hand, not by pydantic, for two reasons: one bad row must be
reported with its row number while the others go on, and a return of 10,000 marks must
be checked in milliseconds. This module holds what a mark may be (its fields, sessions
and marks), how a placement id, a date and minutes late are read, the rejected rows'
report (`Rejected`) and `parse_rows`, by which any return that is not right throughout
is read.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aphub.attendance.schemas import (
    CSV_COLUMNS,
    MAX_MINUTES_LATE,
    MAX_NOTE,
    row_echo,
)

MARKS = frozenset({"present", "late", "absent_authorised", "absent_unauthorised", "not_required"})
SESSIONS = frozenset({"am", "pm"})
FIELDS = frozenset(CSV_COLUMNS)
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_UNPARSED: Any = object()


@dataclass
class Rejected:
    """Rejected rows by row number: what was sent (bounded) and every reason."""

    rows: dict[int, tuple[tuple[str | None, str | None, str | None], list[dict[str, str]]]] = field(
        default_factory=dict
    )

    def add(self, row: int, raw: Any, field_name: str, message: str) -> None:
        entry = self.rows.get(row)
        if entry is None:
            echo = (
                (
                    row_echo(raw.get("placement_id")),
                    row_echo(raw.get("date")),
                    row_echo(raw.get("session")),
                )
                if isinstance(raw, dict)
                else (None, None, None)
            )
            entry = self.rows[row] = (echo, [])
        entry[1].append({"field": field_name, "message": message})

    def report(self) -> list[dict[str, Any]]:
        out = []
        for row in sorted(self.rows):
            (placement_id, day, session), errors = self.rows[row]
            out.append(
                {
                    "row": row,
                    "placement_id": placement_id,
                    "date": day,
                    "session": session,
                    "message": "; ".join(e["message"] for e in errors),
                    "errors": errors,
                }
            )
        return out


def canonical_id(value: str) -> str | None:
    """The canonical form of a placement id as sent, or None if it is not one."""
    if CANONICAL_UUID.fullmatch(value):
        return value  # what clients send (and what str(uuid.UUID(value)) would give)
    if len(value) > 45:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def iso_day(value: str) -> date | None:
    """A date written as 2026-09-01, or None."""
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _placement_key(value: Any, cache: dict[Any, str | None]) -> str | None:
    """The canonical form of a placement id as sent (parsed once per distinct string)."""
    if type(value) is not str:
        return None
    key = cache.get(value, _UNPARSED)
    if key is _UNPARSED:
        key = cache[value] = canonical_id(value)
    return key  # type: ignore[no-any-return]


def _day(value: Any, cache: dict[Any, date | None]) -> date | None:
    if type(value) is not str:
        return None
    day = cache.get(value, _UNPARSED)
    if day is _UNPARSED:
        day = cache[value] = iso_day(value)
    return day  # type: ignore[no-any-return]


def _problems(
    raw: dict[Any, Any],
    placement_id: str | None,
    day: date | None,
    today: date,
) -> list[tuple[str, str]]:
    """Every reason a row is wrong on its own (the slow path: only for suspect rows)."""
    problems = []
    if len(raw) > len(FIELDS) or not raw.keys() <= FIELDS:
        unknown = sorted(str(k)[:40] for k in raw if k not in FIELDS)[:5]
        problems.append(("row", f"unknown field(s): {', '.join(unknown)}"))
    if placement_id is None:
        problems.append(("placement_id", "placement_id must be a placement's id (UUID)"))
    if day is None:
        problems.append(("date", "date must be a date like 2026-09-01"))
    elif day > today:
        problems.append(("date", f"date is in the future (today is {today.isoformat()})"))
    session = raw.get("session")
    if type(session) is not str or session not in SESSIONS:
        problems.append(("session", "session must be am or pm"))
    mark = raw.get("mark")
    if type(mark) is not str or mark not in MARKS:
        problems.append(("mark", "mark must be one of " + ", ".join(sorted(MARKS))))
    minutes = read_minutes(raw.get("minutes_late"))
    if minutes is not None and minutes != "":
        if type(minutes) is not int or not 0 <= minutes <= MAX_MINUTES_LATE:
            problems.append(
                (
                    "minutes_late",
                    f"minutes_late must be a whole number from 0 to {MAX_MINUTES_LATE}",
                )
            )
        elif mark != "late":
            problems.append(("minutes_late", "minutes_late is only for a late mark"))
    note = raw.get("note")
    if note is not None and note != "":
        if type(note) is not str:
            problems.append(("note", "note must be text"))
        elif len(note) > MAX_NOTE:
            problems.append(("note", f"note is at most {MAX_NOTE} characters"))
        elif "\x00" in note:
            problems.append(("note", "note must not contain NUL"))
    return problems


def read_minutes(value: Any) -> Any:
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value) if len(value) <= 6 else -1  # a CSV cell is text
    return value


# (row number, placement id (canonical text), date, session, mark, minutes late, note)
Row = tuple[int, str, date, str, str, int | None, str | None]


def parse_rows(raw_rows: list[Any], today: date) -> tuple[list[Row], Rejected]:
    """Each row checked on its own; a session sent twice is rejected the second time.

    A row that is plainly right takes the fast path (a few dictionary look-ups); any
    doubt sends it to `_problems`, which names everything wrong with it."""
    rejected = Rejected()
    good: list[Row] = []
    placement_ids: dict[Any, str | None] = {}
    days: dict[Any, date | None] = {}
    seen: dict[tuple[str, Any, Any], int] = {}
    fields, sessions, marks = FIELDS, SESSIONS, MARKS
    for n, raw in enumerate(raw_rows, 1):
        if type(raw) is not dict:
            if isinstance(raw, tuple):  # a CSV line with the wrong number of cells
                rejected.add(n, None, "row", f"expected {raw[2]} cells, found {len(raw[1])}")
            else:
                rejected.add(n, None, "row", "each mark is an object")
            continue
        get = raw.get
        value = get("placement_id")
        try:
            placement_id = placement_ids[value]
        except (KeyError, TypeError):
            placement_id = _placement_key(value, placement_ids)
        value = get("date")
        try:
            day = days[value]
        except (KeyError, TypeError):
            day = _day(value, days)
        session, mark, minutes, note = get("session"), get("mark"), get("minutes_late"), get("note")
        if minutes is not None:
            minutes = None if minutes == "" else read_minutes(minutes)
        if (
            placement_id is None
            or day is None
            or day > today
            or type(session) is not str  # (a list or an object cannot even be looked up)
            or session not in sessions
            or type(mark) is not str
            or mark not in marks
            or (
                minutes is not None
                and (
                    mark != "late"
                    or type(minutes) is not int
                    or not 0 <= minutes <= MAX_MINUTES_LATE
                )
            )
            or (
                note is not None
                and (type(note) is not str or len(note) > MAX_NOTE or "\x00" in note)
            )
            or not raw.keys() <= fields
        ):
            for field_name, message in _problems(raw, placement_id, day, today):
                rejected.add(n, raw, field_name, message)
            continue
        key = (placement_id, day, session)
        first = seen.get(key)
        if first is not None:
            rejected.add(n, raw, "session", f"the same session as row {first}")
            continue
        seen[key] = n
        if note is not None:
            note = note.strip() or None  # a blank note explains nothing
        good.append((n, placement_id, day, session, mark, minutes, note))
    return good, rejected
