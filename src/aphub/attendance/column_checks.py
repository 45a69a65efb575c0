"""Checking an attendance return column by column: whether every row is right, quickly.

Each field's values are taken out of the rows at once and each distinct value is read
once (a return names a few placements, days, marks and notes many times over), to the
rules of `row_checks.parse_rows`. This names the placements and days to look up before
the rows are fully checked (`fields`, `named`) and gives a return right throughout as a
`Batch` of columns (`clean_batch`); it cannot say which row is wrong or why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress, repeat
from operator import is_not
from typing import Any

from aphub.attendance.parsing import CsvMarks, Marks
from aphub.attendance.row_checks import (
    FIELDS,
    MARKS,
    SESSIONS,
    Row,
    canonical_id,
    iso_day,
    read_minutes,
)
from aphub.attendance.schemas import MAX_MINUTES_LATE, MAX_NOTE


@dataclass(slots=True)
class Fields:
    """A return's values field by field, in row order, for a return whose rows are all
    shaped like a mark (JSON objects; CSV lines of the header's width). Each field is
    taken out of the rows when first asked for: a field no row has is all None."""

    marks: Marks
    _taken: dict[str, Sequence[Any]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Sequence[Any]:
        taken = self._taken.get(name)
        if taken is None:
            taken = self._taken[name] = self._take(name)
        return taken

    def _take(self, name: str) -> Sequence[Any]:
        marks = self.marks
        if not isinstance(marks, CsvMarks):
            return list(map(dict.get, marks, repeat(name)))
        if marks.columns is None or name not in marks.names:
            return [None] * len(marks)
        return marks.columns[marks.names.index(name)]

    def known(self) -> bool:
        """Whether every row names only fields the hub knows (a CSV header is checked as
        it is read)."""
        return isinstance(self.marks, CsvMarks) or set().union(*self.marks) <= FIELDS


def fields(marks: Marks) -> Fields | None:
    """The return field by field; None if some row is not shaped like a mark (it is then
    read row by row)."""
    if isinstance(marks, CsvMarks):
        shaped = marks.columns is not None
    else:
        shaped = set(map(type, marks)) == {dict}
    return Fields(marks) if shaped else None


def _distinct(values: Sequence[Any]) -> set[Any] | None:
    try:
        return set(values)
    except TypeError:  # a list or an object where a value belongs: read row by row
        return None


@dataclass(slots=True)
class Named:
    """The placement ids and dates a return's rows name, each distinct value as sent
    mapped to what it reads as (None: not a placement id, not a date)."""

    placements: dict[Any, str | None]
    days: dict[Any, date | None]

    def placement_ids(self) -> list[str]:
        return sorted({p for p in self.placements.values() if p is not None})

    def window(self) -> tuple[date, date] | None:
        """The first and last of the dates that are dates (every valid row is within)."""
        days = [d for d in self.days.values() if d is not None]
        return (min(days), max(days)) if days else None


def named(columns: Fields) -> Named | None:
    """What the rows name, read once per distinct value; None if a value is not even
    hashable (a list or an object), when the return is read row by row."""
    placements, days = _distinct(columns["placement_id"]), _distinct(columns["date"])
    if placements is None or days is None:
        return None
    return Named(
        {v: canonical_id(v) if type(v) is str else None for v in placements},
        {v: iso_day(v) if type(v) is str else None for v in days},
    )


@dataclass(slots=True)
class Batch:
    """A return every row of which is right on its own, as columns of the values read
    (canonical placement ids, dates, whole minutes, trimmed notes)."""

    placement_ids: Sequence[str]
    days: Sequence[date]
    sessions: Sequence[str]
    marks: Sequence[str]
    minutes: Sequence[int | None]
    notes: Sequence[str | None]

    def rows(self) -> list[Row]:
        """The rows numbered, as `parse_rows` gives them."""
        return list(
            zip(
                range(1, len(self.placement_ids) + 1),
                self.placement_ids,
                self.days,
                self.sessions,
                self.marks,
                self.minutes,
                self.notes,
                strict=True,
            )
        )


_BAD: Any = object()


def _minutes_value(value: Any) -> Any:
    """A minutes_late value as `parse_rows` reads it (None: no value), or _BAD."""
    if value is None or value == "":
        return None
    minutes = read_minutes(value)
    if type(minutes) is not int or not 0 <= minutes <= MAX_MINUTES_LATE:
        return _BAD
    return minutes


def _minutes_column(values: Sequence[Any], marks: Sequence[str]) -> Sequence[int | None] | None:
    # by type first: True == 1 and 1.0 == 1, so distinct numbers could hide a bool or float
    types = set(map(type, values))
    if not types <= {type(None), int, str}:
        return None
    if types == {type(None)}:
        return values
    read = {v: _minutes_value(v) for v in set(values)}
    if _BAD in read.values():
        return None
    minutes = list(map(read.__getitem__, values)) if str in types else values
    if not set(compress(marks, map(is_not, minutes, repeat(None)))) <= {"late"}:
        return None  # minutes late on a mark that is not late
    return minutes


def _notes_column(values: Sequence[Any]) -> Sequence[str | None] | None:
    distinct = _distinct(values)
    if distinct is None:
        return None
    read: dict[str | None, str | None] = {None: None}
    for note in distinct:
        if note is None:
            continue
        if type(note) is not str or len(note) > MAX_NOTE or "\x00" in note:
            return None
        read[note] = note.strip() or None  # a blank note explains nothing
    if all(read[note] is note for note in distinct):
        return values
    return list(map(read.__getitem__, values))


def clean_batch(columns: Fields, sent: Named, today: date) -> Batch | None:
    """The return as a `Batch` if every row is right on its own by the rules of
    `parse_rows`; None if any row is not (and `parse_rows` says which and why)."""
    if not columns.known():
        return None
    ids = {value: key for value, key in sent.placements.items() if key is not None}
    days = {value: day for value, day in sent.days.items() if day is not None}
    if len(ids) != len(sent.placements) or len(days) != len(sent.days):
        return None
    if not days or max(days.values()) > today:
        return None
    sessions, marks = columns["session"], columns["mark"]
    distinct_sessions, distinct_marks = _distinct(sessions), _distinct(marks)
    if distinct_sessions is None or not distinct_sessions <= SESSIONS:
        return None
    if distinct_marks is None or not distinct_marks <= MARKS:
        return None
    minutes = _minutes_column(columns["minutes_late"], marks)
    notes = _notes_column(columns["note"])
    if minutes is None or notes is None:
        return None
    sent_ids, sent_days = columns["placement_id"], columns["date"]
    canonical = all(key is value for value, key in ids.items())  # as clients usually send
    placement_ids = sent_ids if canonical else list(map(ids.__getitem__, sent_ids))
    # a session as text: a date has one spelling (2026-09-01), so no need to read it here
    sessions_sent = map("".join, zip(placement_ids, sent_days, sessions, strict=True))
    if len(set(sessions_sent)) != len(placement_ids):
        return None  # a session sent twice
    row_days = list(map(days.__getitem__, sent_days))
    return Batch(placement_ids, row_days, sessions, marks, minutes, notes)
