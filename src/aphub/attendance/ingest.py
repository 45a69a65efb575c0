"""Writing an attendance return: the valid rows all, in one transaction, with their events.

The rule for a return with bad rows: every valid row is written and every bad row is
reported (row number, placement, date, session, why). Each mark is a fact about one
session of one child, independent of the others: holding back 9,999 children's marks
because one row is wrong would delay the concerns computed from them (and raise false
`no_return` concerns for all of them). The valid rows are written together or not at
all: one transaction with the events that describe them, so a failure writes nothing
and a retry (with the same Idempotency-Key, or simply again: re-posting a session
replaces it) is always safe. A client corrects the rejected rows and sends just those.

How it stays fast (bench/attendance.py measures it against a bare COPY):
- the provider's returns are serialised by a transaction-level advisory lock, so the
  old values read before writing are exactly what the write replaces; it is taken while
  the request's body is read;
- one statement reads the batch's placements (visibility, status, dates, the home
  school's code, whether marks are already held in the return's window of dates:
  placement_checks.py); it runs in the database while the rows are checked here, column
  by column (column_checks.py);
- a return that is right throughout, for placements that cover its dates, is written
  from its columns without building a row; any other is checked row by row;
- the marks already held are read (for the placements that have some in the window)
  only to tell new, changed and unchanged rows apart: rows new to the hub go in by
  COPY; only changed rows take the upsert; unchanged re-posts are not written at all;
- the cyclic garbage collector is paused while the rows are read and checked (they are
  many, short-lived and acyclic).
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from operator import itemgetter
from typing import Any, TypeVar

from aphub.attendance.column_checks import clean_batch, fields, named
from aphub.attendance.parsing import Marks, marks_rows
from aphub.attendance.placement_checks import (
    BatchValues,
    NamedPlacement,
    Values,
    batch_values,
    check_placements,
    covers,
    named_placements,
    window_of,
)
from aphub.attendance.row_checks import Rejected, parse_rows
from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.errors import Forbidden
from aphub.events.log import record
from aphub.ids import uuid7
from aphub.placements.service import actor_of
from aphub.sharing.relationships import TODAY

MARK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:aphub:attendance-mark")
COLUMNS = ["placement_id", "date", "session", "mark", "code", "minutes_late", "note"]

LOCK_AND_TODAY = (
    "SELECT pg_advisory_xact_lock(hashtextextended('aphub:attendance:' || :org::text, 0)), "
    f"{TODAY} AS today"
)
OLD_MARKS = (
    "SELECT m.placement_id, m.date, m.session, m.mark, m.code, m.minutes_late, m.note "
    "FROM unnest(:placement_ids::uuid[], :los::date[], :his::date[]) AS r(placement_id, lo, hi) "
    "CROSS JOIN LATERAL (SELECT * FROM attendance_marks m WHERE m.placement_id = r.placement_id "
    "AND m.date BETWEEN r.lo AND r.hi OFFSET 0) m"
)
REPLACE = (
    "INSERT INTO attendance_marks AS m (placement_id, date, session, mark, code, minutes_late, "
    "note) SELECT * FROM unnest(:placement_id::uuid[], :date::date[], :session::text[], "
    ":mark::text[], :code::text[], :minutes_late::int2[], :note::text[]) "
    "ON CONFLICT (placement_id, date, session) DO UPDATE SET mark = excluded.mark, "
    "code = excluded.code, minutes_late = excluded.minutes_late, note = excluded.note, "
    "recorded_at = now()"
)


def mark_id(placement_id: str, day: date, session: str) -> uuid.UUID:
    """A stable id for the session (the event subject of a changed mark)."""
    return uuid.uuid5(MARK_NAMESPACE, f"{placement_id}/{day.isoformat()}/{session}")


T = TypeVar("T")
U = TypeVar("U")


@contextmanager
def _uncollected() -> Iterator[None]:
    """The cyclic garbage collector paused for a stretch of synchronous work.

    Reading and checking a return builds tens of thousands of short-lived objects (rows,
    values), none of them in a reference cycle: they are freed by reference counting
    alone. Left on, the collector would run every 700 of them, for nothing to collect, and
    every few returns scan the whole process's heap. No other code runs during the stretch
    (it holds no await), and the collector is as it was afterwards."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _alongside(statement: Awaitable[T], work: Callable[[], U]) -> tuple[T, U]:
    """`work` (synchronous, with the collector paused) done here while `statement` runs
    in the database: the statement is sent first (one turn of the event loop), so
    neither waits for the other."""
    task = asyncio.ensure_future(statement)
    try:
        await asyncio.sleep(0)
        with _uncollected():
            result = work()
    finally:
        answer = await task  # never left running on the unit's connection
    return answer, result


async def _checked(
    uow: WriteUnit, principal: Principal, marks: Marks, today: date
) -> tuple[Values, Rejected, dict[str, NamedPlacement]]:
    """The values to write, the rejected rows and the placements the rows name."""
    columns = fields(marks)
    sent = named(columns) if columns is not None else None
    if columns is None or sent is None:  # some row is not shaped like a mark
        rows, rejected = parse_rows(marks_rows(marks), today)
        ids = sorted({r[1] for r in rows})
        placements = await named_placements(uow, principal, ids, window_of(rows))
        return check_placements(rows, placements, rejected), rejected, placements
    ids, window = sent.placement_ids(), sent.window()
    placements, batch = await _alongside(
        named_placements(uow, principal, ids, window), lambda: clean_batch(columns, sent, today)
    )
    if batch is not None and covers(placements, ids, window):
        return batch_values(batch, placements), Rejected(), placements
    if batch is not None:
        rows, rejected = batch.rows(), Rejected()
    else:
        rows, rejected = parse_rows(marks_rows(marks), today)
    return check_placements(rows, placements, rejected), rejected, placements


async def return_attendance(uow: WriteUnit, principal: Principal, marks: Marks) -> dict[str, Any]:
    """Check every row, write the valid ones, record the events; the report says which."""
    return await return_read(uow, principal, lambda: marks)


async def _lock(uow: WriteUnit, principal: Principal) -> date:
    """Serialise the provider's returns; today's date, as the database has it."""
    # the lock, the marks and the events are one transaction (the unit's)
    lock = await uow.fetchrow(LOCK_AND_TODAY, org=str(principal.organisation_id))
    today: date = lock["today"]
    return today


async def return_read(
    uow: WriteUnit, principal: Principal, read: Callable[[], Marks]
) -> dict[str, Any]:
    """`return_attendance` of the marks `read` gives (parsing a request's body): they are
    read while the transaction's first statements run."""
    if principal.organisation_type != "provider":
        read()  # a body that cannot be read is a 422, whoever sends it
        raise Forbidden("Only AP providers return attendance, for their own placements")
    today, marks = await _alongside(_lock(uow, principal), read)
    valid, rejected, placements = await _checked(uow, principal, marks, today)
    report: dict[str, Any] = {
        "return_id": None,
        "received": len(marks),
        "accepted": len(valid),
        "rejected": len(rejected.rows),
        "inserted": 0,
        "replaced": 0,
        "unchanged": 0,
        "placements": [],
        "errors": rejected.report(),
    }
    if valid:
        await _write(uow, principal, valid, placements, report)
    return report


async def _old_marks(
    uow: WriteUnit, rows: Values, placements: dict[str, NamedPlacement]
) -> dict[tuple[Any, ...], Any]:
    """The marks already held in the span of dates each placement has in this return
    (read only for the placements holding some in the return's window)."""
    marked = {pid for pid, p in placements.items() if p.has_marks}
    if not marked:
        return {}
    spans: dict[str, list[date]] = {}
    for pid, day, *_ in rows:
        if pid in marked:
            span = spans.get(pid)
            if span is None:
                spans[pid] = [day, day]
            elif day < span[0]:
                span[0] = day
            elif day > span[1]:
                span[1] = day
    ids = list(spans)
    found = await uow.fetch(
        OLD_MARKS,
        placement_ids=ids,
        los=[spans[i][0] for i in ids],
        his=[spans[i][1] for i in ids],
    )
    return {(str(m["placement_id"]), m["date"], m["session"]): m for m in found}


async def _store(uow: WriteUnit, new: Values, changed: list[tuple[tuple[Any, ...], Any]]) -> None:
    """New rows by COPY, changed ones by upsert."""
    if new:
        await uow.copy_records("attendance_marks", new, COLUMNS)
    if changed:
        columns = list(zip(*(values for values, _ in changed), strict=True))
        await uow.execute(
            REPLACE, **{name: list(c) for name, c in zip(COLUMNS, columns, strict=True)}
        )


async def _write(
    uow: WriteUnit,
    principal: Principal,
    rows: Values,
    placements: dict[str, NamedPlacement],
    report: dict[str, Any],
) -> None:
    old = await _old_marks(uow, rows, placements)
    new: Values = rows
    changed: list[tuple[tuple[Any, ...], Any]] = []
    if old:  # some sessions were returned before: new, changed or the same again
        fresh: list[tuple[Any, ...]] = []
        for values in rows:
            before = old.get(values[:3])
            if before is None:
                fresh.append(values)
            elif (before["mark"], before["minutes_late"], before["note"]) != (
                values[3],
                values[5],
                values[6],
            ):
                changed.append((values, before))
        new = fresh
    # before the COPY, not alongside it: the COPY's rows go out only as fast as the
    # database takes them, and only while the event loop is free to send them
    _record(uow, principal, rows, new, changed, placements, report)
    await _store(uow, new, changed)


def _per_placement(rows: Values) -> Counter[str]:
    """How many of the rows are each placement's."""
    if isinstance(rows, BatchValues):
        return Counter(rows.columns[0])  # the placement ids, without making the rows
    return Counter(map(itemgetter(0), rows))


def _record(
    uow: WriteUnit,
    principal: Principal,
    rows: Values,
    new: Values,
    changed: list[tuple[tuple[Any, ...], Any]],
    placements: dict[str, NamedPlacement],
    report: dict[str, Any],
) -> None:
    """The report's counts and the events: one for the return, one per changed mark."""
    marks = _per_placement(rows)
    inserted = marks if new is rows else _per_placement(new)
    replaced = Counter(values[0] for values, _ in changed)
    return_id = uuid7()
    actor = actor_of(principal)
    per_placement = [
        {
            "placement_id": pid,
            "child_id": placements[pid].child_id,
            "marks": count,
            "inserted": inserted[pid],
            "replaced": replaced[pid],
        }
        for pid, count in sorted(marks.items())
    ]
    report.update(
        return_id=str(return_id),
        inserted=len(new),
        replaced=len(changed),
        unchanged=len(rows) - len(new) - len(changed),
        placements=per_placement,
    )
    record(
        uow,
        type="attendance.returned",
        subject_type="attendance_return",
        subject_id=return_id,
        actor=actor,
        data={
            "provider_id": str(principal.organisation_id),
            **{k: report[k] for k in ("received", "accepted", "rejected")},
            **{k: report[k] for k in ("inserted", "replaced", "unchanged")},
            "placements": per_placement,
        },
    )
    for (pid, day, session, mark, code, minutes_late, note), before in changed:
        record(
            uow,
            type="attendance.mark_changed",
            subject_type="attendance_mark",
            subject_id=mark_id(pid, day, session),
            child_id=uuid.UUID(placements[pid].child_id),
            actor=actor,
            data={
                "return_id": str(return_id),
                "placement_id": pid,
                "date": day.isoformat(),
                "session": session,
                "from": {
                    "mark": before["mark"],
                    "code": before["code"],
                    "minutes_late": before["minutes_late"],
                    "note": before["note"],
                },
                "to": {"mark": mark, "code": code, "minutes_late": minutes_late, "note": note},
            },
        )
