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
  old values read before writing are exactly what the write replaces;
- one statement reads the batch's placements (visibility, status, dates, the home
  school's code), one reads the marks already held in each placement's date range;
- rows new to the hub go in by COPY; only changed rows take the upsert; unchanged
  re-posts are not written at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from aphub.attendance.codes import ABSENCE_CODES, ARRANGEMENT_CODE_SQL, ATTENDED
from aphub.attendance.parsing import Rejected, Row, parse_rows
from aphub.auth.principal import Principal
from aphub.db import UnitOfWork
from aphub.errors import Forbidden
from aphub.events.log import record
from aphub.ids import uuid7
from aphub.placements.service import actor_of
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy
from aphub.sharing.relationships import TODAY

MARK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:aphub:attendance-mark")
COLUMNS = ["placement_id", "date", "session", "mark", "code", "minutes_late", "note"]

LOCK_AND_TODAY = (
    f"SELECT pg_advisory_xact_lock(hashtextextended('aphub:attendance:' || $1::text, 0)), "
    f"{TODAY} AS today"
)
OLD_MARKS = (
    "SELECT m.placement_id, m.date, m.session, m.mark, m.code, m.minutes_late, m.note "
    "FROM unnest($1::uuid[], $2::date[], $3::date[]) AS r(placement_id, lo, hi) "
    "CROSS JOIN LATERAL (SELECT * FROM attendance_marks m WHERE m.placement_id = r.placement_id "
    "AND m.date BETWEEN r.lo AND r.hi OFFSET 0) m"
)
REPLACE = (
    "INSERT INTO attendance_marks AS m (placement_id, date, session, mark, code, minutes_late, "
    "note) SELECT * FROM unnest($1::uuid[], $2::date[], $3::text[], $4::text[], $5::text[], "
    "$6::int2[], $7::text[]) "
    "ON CONFLICT (placement_id, date, session) DO UPDATE SET mark = excluded.mark, "
    "code = excluded.code, minutes_late = excluded.minutes_late, note = excluded.note, "
    "recorded_at = now()"
)


@cache
def _placements_sql(policy: Policy) -> str:
    visible = placement_visible("provider", "$1::uuid", policy)
    # KEY SHARE: a concurrent end of one of these placements waits for this return, so
    # the dates checked here are the dates when the marks commit.
    return (
        "SELECT p.id, p.child_id, p.status, p.start_date, p.actual_end_date, "
        f"{ARRANGEMENT_CODE_SQL} AS code "
        "FROM placements p JOIN organisations comm ON comm.id = p.commissioner_id "
        f"WHERE p.id = ANY($2::uuid[]) AND p.provider_id = $1::uuid AND {visible} "
        "ORDER BY p.id FOR KEY SHARE OF p"
    )


def mark_id(placement_id: str, day: date, session: str) -> uuid.UUID:
    """A stable id for the session (the event subject of a changed mark)."""
    return uuid.uuid5(MARK_NAMESPACE, f"{placement_id}/{day.isoformat()}/{session}")


@dataclass(slots=True)
class _Placement:
    child_id: str
    status: str
    start: date
    end: date | None
    code: str


def _refusal(p: _Placement | None, day: date) -> tuple[str, str] | None:
    if p is None:
        return "placement_id", "not one of your placements"
    if p.status not in ("active", "ended"):
        return "placement_id", f"the placement is {p.status}: it has not started"
    if day < p.start:
        return "date", f"date is before the placement started ({p.start.isoformat()})"
    if p.end is not None and day > p.end:
        return "date", f"date is after the placement ended ({p.end.isoformat()})"
    return None


def _check_placements(
    rows: list[Row], placements: dict[str, _Placement], rejected: Rejected
) -> tuple[list[tuple[Any, ...]], dict[str, list[date]]]:
    """The rows of the caller's placements within their dates, as the values to write
    (with the home school's code), and each placement's span of dates in the return."""
    valid: list[tuple[Any, ...]] = []
    spans: dict[str, list[date]] = {}
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
        span = spans.get(pid)
        if span is None:
            spans[pid] = [day, day]
        elif day < span[0]:
            span[0] = day
        elif day > span[1]:
            span[1] = day
    return valid, spans


async def return_attendance(
    uow: UnitOfWork, principal: Principal, raw_rows: list[Any]
) -> dict[str, Any]:
    """Check every row, write the valid ones, record the events; the report says which."""
    if principal.organisation_type != "provider":
        raise Forbidden("Only AP providers return attendance, for their own placements")
    await uow.begin()  # the lock, the marks and the events are one transaction
    lock = await uow.fetchrow(LOCK_AND_TODAY, str(principal.organisation_id))
    rows, rejected = parse_rows(raw_rows, lock["today"])
    found = await uow.fetch(
        _placements_sql(active_policy()),
        principal.organisation_id,
        sorted({r[1] for r in rows}),
    )
    placements = {
        str(r["id"]): _Placement(
            str(r["child_id"]),
            r["status"],
            r["start_date"],
            r["actual_end_date"],
            # a placement not started takes no marks: no code, so every row is refused
            r["code"] if r["status"] in ("active", "ended") else "",
        )
        for r in found
    }
    valid, spans = _check_placements(rows, placements, rejected)
    report: dict[str, Any] = {
        "return_id": None,
        "received": len(raw_rows),
        "accepted": len(valid),
        "rejected": len(rejected.rows),
        "inserted": 0,
        "replaced": 0,
        "unchanged": 0,
        "placements": [],
        "errors": rejected.report(),
    }
    if valid:
        await _write(uow, principal, valid, spans, placements, report)
    return report


async def _old_marks(uow: UnitOfWork, spans: dict[str, list[date]]) -> dict[tuple[Any, ...], Any]:
    """The marks already held in each placement's span of dates in this return."""
    ids = list(spans)
    found = await uow.fetch(OLD_MARKS, ids, [spans[i][0] for i in ids], [spans[i][1] for i in ids])
    return {(str(m["placement_id"]), m["date"], m["session"]): m for m in found}


async def _write(
    uow: UnitOfWork,
    principal: Principal,
    rows: list[tuple[Any, ...]],
    spans: dict[str, list[date]],
    placements: dict[str, _Placement],
    report: dict[str, Any],
) -> None:
    old = await _old_marks(uow, spans)
    new: list[tuple[Any, ...]] = rows
    changed: list[tuple[tuple[Any, ...], Any]] = []
    if old:  # some sessions were returned before: new, changed or the same again
        new = []
        for values in rows:
            before = old.get(values[:3])
            if before is None:
                new.append(values)
            elif (before["mark"], before["minutes_late"], before["note"]) != (
                values[3],
                values[5],
                values[6],
            ):
                changed.append((values, before))
    if new:
        async with uow.lock:
            await uow.session.flush()
            conn = await uow.raw()
            await conn.copy_records_to_table("attendance_marks", records=new, columns=COLUMNS)
    if changed:
        columns = list(zip(*(values for values, _ in changed), strict=True))
        await uow.fetch(REPLACE, *(list(c) for c in columns))

    counts: dict[str, list[int]] = {pid: [0, 0, 0] for pid in spans}  # marks, new, changed
    for values in rows:
        counts[values[0]][0] += 1
    if old:
        for values in new:
            counts[values[0]][1] += 1
    else:
        for tally in counts.values():
            tally[1] = tally[0]
    for values, _ in changed:
        counts[values[0]][2] += 1
    return_id = uuid7()
    actor = actor_of(principal)
    per_placement = [
        {
            "placement_id": pid,
            "child_id": placements[pid].child_id,
            "marks": marks,
            "inserted": inserted,
            "replaced": replaced,
        }
        for pid, (marks, inserted, replaced) in sorted(counts.items())
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
