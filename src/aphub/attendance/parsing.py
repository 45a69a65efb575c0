"""Reading an attendance return (JSON or CSV) into rows, checking each row on its own.

Rows are validated here by hand, not by pydantic, for two reasons: one bad row must be
reported with its row number while the others go on, and a return of 10,000 marks must
be checked in milliseconds. Problems of the document as a whole (not JSON, no `marks`
list, a CSV header the hub does not know, more than 10,000 rows) are a 422 for the request.

A return is checked in one of two ways, to the same rules:
- column by column (`fields`, `named`, `clean_batch`): each field's values are taken
  out of the rows at once and each distinct value is read once (a return names a few
  placements, days, marks and notes many times over). This answers whether every row is
  right, quickly, and names the placements and days to look up before the rows are
  fully checked; it cannot say which row is wrong or why.
- row by row (`parse_rows`): every problem of every row, by row number. Any return that
  is not right throughout is read this way.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress, repeat
from operator import is_not
from typing import Any

import orjson

from aphub.attendance.schemas import (
    CSV_COLUMNS,
    MAX_MARKS,
    MAX_MINUTES_LATE,
    MAX_NOTE,
    REQUIRED_CSV_COLUMNS,
    row_echo,
)
from aphub.errors import Invalid

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


def _too_many(count: int) -> Invalid:
    return Invalid.field("marks", f"a return holds at most {MAX_MARKS:,} marks, not {count:,}")


def rows_from_json(body: bytes) -> list[Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Invalid.field("body", "the body is not valid JSON") from None
    return rows_from_document(document)


def rows_from_document(document: Any) -> list[Any]:
    marks = document.get("marks") if isinstance(document, dict) else None
    if not isinstance(marks, list):
        raise Invalid.field("marks", 'send {"marks": [...]}: a list of session marks')
    if isinstance(document, dict) and set(document) - {"marks"}:
        raise Invalid.field("body", "only `marks` is accepted at the top level")
    if not marks:
        raise Invalid.field("marks", "a return holds at least one mark")
    if len(marks) > MAX_MARKS:
        raise _too_many(len(marks))
    return marks


@dataclass(slots=True)
class CsvMarks:
    """A CSV return as read: the header's column names and its lines (blank ones left
    out, so line n is row n), as columns when every line has the header's number of
    cells, else as each line's cells."""

    names: list[str]
    count: int
    columns: list[Sequence[str]] | None
    records: list[list[str]]

    @classmethod
    def read(cls, names: list[str], records: list[list[str]]) -> CsvMarks:
        if set(map(len, records)) == {len(names)}:
            return cls(names, len(records), list(zip(*records, strict=True)), [])
        return cls(names, len(records), None, records)

    def __len__(self) -> int:
        return self.count

    def rows(self) -> list[Any]:
        """Each line as an object of its columns (an empty cell is no value); a line with
        the wrong number of cells stays its cells, to be reported as such."""
        names, width = self.names, len(self.names)
        if self.columns is not None:
            lines = zip(*self.columns, strict=True)
            return [dict(zip(names, cells, strict=True)) for cells in lines]
        return [
            dict(zip(names, cells, strict=True)) if len(cells) == width else ("width", cells, width)
            for cells in self.records
        ]


# what a return is handed on as: a JSON return's marks (any values), or a CSV's lines
Marks = list[Any] | CsvMarks


def _csv_names(header: list[str] | None) -> list[str]:
    """The columns a CSV's header names; a header the hub does not know is a 422."""
    if header is None:
        raise Invalid.field("body", "the CSV is empty: send a header and at least one mark")
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in FIELDS]
    missing = [n for n in REQUIRED_CSV_COLUMNS if n not in names]
    if unknown or missing or len(set(names)) != len(names):
        raise Invalid.field(
            "header",
            f"the CSV header must name the columns {','.join(CSV_COLUMNS)} "
            f"(minutes_late and note may be left out), each once"
            + (f"; unknown: {', '.join(unknown[:5])[:200]}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else ""),
        )
    return names


def _check_count(count: int) -> None:
    if count > MAX_MARKS:
        raise _too_many(count)
    if not count:
        raise Invalid.field("marks", "a return holds at least one mark")


def rows_from_csv(body: bytes) -> CsvMarks:
    """CSV with a header naming the columns (placement_id, date, session and mark are
    required; minutes_late and note may be left out); an empty cell is no value.

    Without quotes (what MIS exports of marks look like) a record is a line split at
    commas, which is what the csv module would make of it: when every line has the
    header's number of cells, all the lines are split at once and dealt into columns,
    several times faster. Anything quoted goes through the csv module."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.field("body", "the CSV is not UTF-8") from None
    if "\x00" in text:
        raise Invalid.field("body", "the CSV holds a NUL character")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if '"' in text or "\r" in text:
        return _quoted_csv(text)
    header, _, rest = text.partition("\n")
    names = _csv_names(header.split(","))
    lines = [line for line in rest.split("\n") if line]  # not blank lines
    _check_count(len(lines))
    width = len(names)
    if set(map(str.count, lines, repeat(","))) == {width - 1}:
        cells = ",".join(lines).split(",")
        return CsvMarks(names, len(lines), [cells[i::width] for i in range(width)], [])
    return CsvMarks.read(names, [line.split(",") for line in lines])


def _quoted_csv(text: str) -> CsvMarks:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        names = _csv_names(next(reader, None))
        records = [cells for cells in reader if cells and cells != [""]]  # not blank lines
    except csv.Error as exc:
        raise Invalid.field("body", f"the CSV cannot be read: {str(exc)[:200]}") from None
    _check_count(len(records))
    return CsvMarks.read(names, records)


def marks_rows(marks: Marks) -> list[Any]:
    """The marks one by one, as `parse_rows` reads them."""
    return marks.rows() if isinstance(marks, CsvMarks) else marks


def _canonical_id(value: str) -> str | None:
    """The canonical form of a placement id as sent, or None if it is not one."""
    if CANONICAL_UUID.fullmatch(value):
        return value  # what clients send (and what str(uuid.UUID(value)) would give)
    if len(value) > 45:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _iso_day(value: str) -> date | None:
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
        key = cache[value] = _canonical_id(value)
    return key  # type: ignore[no-any-return]


def _day(value: Any, cache: dict[Any, date | None]) -> date | None:
    if type(value) is not str:
        return None
    day = cache.get(value, _UNPARSED)
    if day is _UNPARSED:
        day = cache[value] = _iso_day(value)
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
    minutes = _minutes(raw.get("minutes_late"))
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


def _minutes(value: Any) -> Any:
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
            minutes = None if minutes == "" else _minutes(minutes)
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
        {v: _canonical_id(v) if type(v) is str else None for v in placements},
        {v: _iso_day(v) if type(v) is str else None for v in days},
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
    minutes = _minutes(value)
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
