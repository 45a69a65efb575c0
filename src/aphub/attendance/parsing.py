"""Reading an attendance return (JSON or CSV) into its marks, before any row is checked.

Problems of the document as a whole (not JSON, no `marks` list, a CSV header the hub does
not know, more than 10,000 rows) are a 422 for the request; the rows are then checked
each on its own, to the same rules in one of two ways:
- column by column (`column_checks`): each field's values are taken out of the rows at
  once and each distinct value is read once (a return names a few placements, days,
  marks and notes many times over). This answers whether every row is right, quickly,
  and names the placements and days to look up before the rows are fully checked; it
  cannot say which row is wrong or why.
- row by row (`row_checks`): every problem of every row, by row number. Any return that
  is not right throughout is read this way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import orjson

from aphub.attendance.row_checks import FIELDS
from aphub.attendance.schemas import CSV_COLUMNS, MAX_MARKS, REQUIRED_CSV_COLUMNS
from aphub.errors import Invalid


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
