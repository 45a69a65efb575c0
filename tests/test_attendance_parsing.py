"""Reading an attendance return: the column-by-column check and the row-by-row one agree.

A return is checked column by column first (each distinct value read once) and row by
row only if some row is wrong; the two must accept exactly the same returns and read
them the same way. Random returns mix right and wrong values of every field."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aphub.attendance.column_checks import clean_batch, fields, named
from aphub.attendance.parsing import CsvMarks, marks_rows, rows_from_csv
from aphub.attendance.row_checks import parse_rows

TODAY = date(2026, 3, 2)
IDS = ["0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b0c", "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b0d"]

PLACEMENT_IDS = st.sampled_from(
    [*IDS, IDS[0].upper(), "{" + IDS[1] + "}", f"urn:uuid:{IDS[0]}", "not-an-id", "", 5, None]
)
DATES = st.sampled_from(
    ["2026-02-02", "2026-02-03", "2026-03-02", "2026-03-03", "2026-13-01", "2026-2-3", 20260202]
)
SESSIONS = st.sampled_from(["am", "pm", "noon", "", None, ["am"]])
MARKS = st.sampled_from(
    ["present", "late", "absent_authorised", "absent_unauthorised", "not_required", "here", {}]
)
MINUTES = st.sampled_from([None, "", 0, 15, 300, 301, -1, "15", "0015", "1234567", "x", True, 1.0])
NOTES = st.sampled_from([None, "", "  ", " Dentist ", "Dentist", "x" * 1001, "a\x00b", 5])


@st.composite
def a_mark(draw: st.DrawFn, *, right: bool) -> dict[str, Any]:
    """A mark object; `right` draws only values that are right on their own."""
    if right:
        mark = draw(st.sampled_from(["present", "late", "absent_unauthorised"]))
        row: dict[str, Any] = {
            "placement_id": draw(st.sampled_from([*IDS, IDS[0].upper()])),
            "date": draw(st.sampled_from([f"2026-02-{d:02}" for d in range(2, 28)])),
            "session": draw(st.sampled_from(["am", "pm"])),
            "mark": mark,
            "minutes_late": draw(st.sampled_from([None, 5, "12"])) if mark == "late" else None,
            "note": draw(st.sampled_from([None, "", " Dentist ", "Dentist"])),
        }
    else:
        row = {
            "placement_id": draw(PLACEMENT_IDS),
            "date": draw(DATES),
            "session": draw(SESSIONS),
            "mark": draw(MARKS),
            "minutes_late": draw(MINUTES),
            "note": draw(NOTES),
        }
        if draw(st.booleans()):
            row["extra"] = 1
    optional = ["minutes_late", "note"] if right else sorted(row)
    for name in draw(st.sets(st.sampled_from(optional), max_size=2)):
        del row[name]  # a field left out
    return row


RETURNS = st.lists(a_mark(right=True), min_size=1, max_size=12) | st.lists(
    a_mark(right=True) | a_mark(right=False) | st.sampled_from([[], "row", None]),
    min_size=1,
    max_size=12,
)


def checked_both_ways(marks: list[Any] | CsvMarks) -> None:
    rows, rejected = parse_rows(marks_rows(marks), TODAY)
    table = fields(marks)
    sent = named(table) if table is not None else None
    batch = clean_batch(table, sent, TODAY) if table is not None and sent is not None else None
    if batch is None:
        assert rejected.rows, "every row is right, yet the columns were refused"
    else:
        assert not rejected.rows, rejected.report()
        assert batch.rows() == rows
        assert sent is not None
        assert sent.placement_ids() == sorted({r[1] for r in rows})
        assert sent.window() == (min(r[2] for r in rows), max(r[2] for r in rows))


@settings(max_examples=400, deadline=None)
@given(RETURNS)
def test_json_returns_are_read_alike_column_by_column_and_row_by_row(marks: list[Any]) -> None:
    checked_both_ways(marks)


def _csv(marks: list[Any], *, quote_all: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(
        out, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    columns = ["placement_id", "date", "session", "mark", "minutes_late", "note"]
    writer.writerow(columns)
    for row in marks:
        if isinstance(row, dict):
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
        else:
            writer.writerow(["only", "three", "cells"])
    return out.getvalue().encode()


@settings(max_examples=200, deadline=None)
@given(RETURNS.filter(lambda marks: all(isinstance(r, dict) for r in marks)))
def test_csv_lines_split_at_commas_read_as_the_csv_module_reads_them(marks: list[Any]) -> None:
    for row in marks:  # a CSV cell is text: no NUL, no line break, no unpaired quote
        for key, value in list(row.items()):
            if isinstance(value, str):
                row[key] = value.replace("\x00", "")
            elif value is not None and not isinstance(value, int | float):
                row[key] = "x"
    plain, quoted = _csv(marks, quote_all=False), _csv(marks, quote_all=True)
    read_plain, read_quoted = rows_from_csv(plain), rows_from_csv(quoted)
    assert marks_rows(read_plain) == marks_rows(read_quoted)
    checked_both_ways(read_plain)
    checked_both_ways(read_quoted)


def test_a_csv_line_of_the_wrong_width_is_a_row_error_and_the_others_are_read() -> None:
    body = (
        "placement_id,date,session,mark\n"
        f"{IDS[0]},2026-02-02,am,present\n"
        "\n"
        f"{IDS[0]},2026-02-02\n"
        f"{IDS[1]},2026-02-02,pm,late,\n"
    ).encode()
    marks = rows_from_csv(body)
    assert len(marks) == 3
    assert fields(marks) is None
    rows, rejected = parse_rows(marks_rows(marks), TODAY)
    assert [r[0] for r in rows] == [1]
    assert {n: [e["message"] for e in errors] for n, (_, errors) in rejected.rows.items()} == {
        2: ["expected 4 cells, found 2"],
        3: ["expected 4 cells, found 5"],
    }


def test_a_list_or_an_object_as_a_value_is_a_row_error() -> None:
    marks: list[Any] = [
        {"placement_id": IDS[0], "date": "2026-02-02", "session": ["am"], "mark": "present"},
        {"placement_id": IDS[0], "date": "2026-02-02", "session": "pm", "mark": {"a": 1}},
        {"placement_id": [IDS[0]], "date": {}, "session": "am", "mark": "present"},
    ]
    table = fields(marks)
    assert table is not None
    assert named(table) is None
    rows, rejected = parse_rows(marks, TODAY)
    assert rows == []
    assert {n: [e["field"] for e in errors] for n, (_, errors) in rejected.rows.items()} == {
        1: ["session"],
        2: ["mark"],
        3: ["placement_id", "date"],
    }
