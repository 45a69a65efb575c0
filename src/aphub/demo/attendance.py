"""Demo attendance: a term of session marks for the demo placements that have started,
returned by their providers through the same service as `POST /v1/attendance`, a
half term in each home LA's calendar, and the concerns the hub raises from them.

The placements (read from the database, most days a week first) get, in turn:
attendance of 40% over the last six weeks (`below_50`), of 80% (`below_90`), an
unauthorised absence with no note last week (`unexplained_absence`), and one school day
with nothing returned (`no_return`); every other placement attends well, its absences
explained.
"""

from __future__ import annotations

import random
import sys
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from aphub.attendance import ingest
from aphub.attendance.calendar import Calendar
from aphub.attendance.concerns import run_concerns
from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.events.log import Actor, record
from aphub.models import SchoolHoliday

if TYPE_CHECKING:
    from aphub.demo import DemoArea

CLIENT = Actor.system("demo").client_id or "system:demo"
TERM_DAYS = 91
WINDOW_DAYS = 42
PATTERNS = ("below_50", "below_90", "unexplained_absence", "no_return")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

PLACEMENTS = (
    "SELECT p.id, p.provider_id, p.start_date, p.actual_end_date, p.pattern, c.home_la_id "
    "FROM placements p JOIN children c ON c.id = p.child_id "
    "WHERE p.status = 'active' OR (p.status = 'ended' AND p.actual_end_date >= :since) "
    "ORDER BY p.id"
)


def _progress(message: str) -> None:
    print(f"  demo: {message}", file=sys.stderr, flush=True)


def _sessions(pattern: Any) -> dict[str, list[str]]:
    """Sessions by weekday the placement expects (every weekday, both sessions, when no
    pattern is set)."""
    days = pattern.get("days") if isinstance(pattern, dict) else None
    if not days:
        return {d: ["am", "pm"] for d in WEEKDAYS[:5]}
    return {d["day"]: list(d["sessions"]) for d in days}


def _mark(kind: str, rng: random.Random, recent: bool) -> dict[str, Any]:
    """One session's mark for a placement following pattern `kind`."""
    roll = rng.random()
    if kind == "below_50" and recent:
        rate = 0.4
    elif kind == "below_90" and recent:
        rate = 0.8
    else:
        rate = 0.97
    if roll < rate:
        if rng.random() < 0.05:
            return {"mark": "late", "minutes_late": rng.randrange(5, 30)}
        return {"mark": "present"}
    if rng.random() < 0.7:
        return {"mark": "absent_authorised", "note": "Medical appointment; letter seen"}
    return {"mark": "absent_unauthorised", "note": "Parent phoned after registration"}


async def _half_terms(uow: WriteUnit, home_las: set[uuid.UUID], today: date) -> date:
    """A half term (Monday to Friday) seven weeks ago in each home LA's calendar."""
    monday = today - timedelta(days=today.weekday(), weeks=7)
    for la in sorted(home_las):
        holiday = SchoolHoliday(
            la_id=la, from_date=monday, to_date=monday + timedelta(days=4), name="Half term"
        )
        uow.session.add(holiday)
        await uow.session.flush()
        record(
            uow,
            type="school_holiday.added",
            subject_type="school_holiday",
            subject_id=holiday.id,
            actor=Actor(la, CLIENT),
            data={
                "la_id": str(la),
                "from_date": holiday.from_date.isoformat(),
                "to_date": holiday.to_date.isoformat(),
                "name": holiday.name,
            },
        )
    return monday


async def load_attendance(uow: WriteUnit, area: DemoArea) -> None:
    today = date.today()
    placements = await uow.fetch(PLACEMENTS, since=today - timedelta(days=60))
    if not placements:
        _progress("attendance: no started placements to return attendance for")
        return
    _progress(f"attendance: a term of marks for {len(placements)} placements, and concerns")
    half_term = await _half_terms(uow, {p["home_la_id"] for p in placements}, today)
    calendar = Calendar(((half_term, half_term + timedelta(days=4)),))
    active = [p for p in placements if p["actual_end_date"] is None]
    by_days = sorted(active, key=lambda p: (-len(_sessions(p["pattern"])), str(p["id"])))
    kinds = {p["id"]: kind for p, kind in zip(by_days, PATTERNS, strict=False)}
    rng = random.Random(20261123)
    returns: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for p in placements:
        kind = kinds.get(p["id"], "good")
        expected = _sessions(p["pattern"])
        last = min(p["actual_end_date"] or today, today - timedelta(days=1))
        days = calendar.school_days(max(p["start_date"], today - timedelta(days=TERM_DAYS)), last)
        days = [d for d in days if WEEKDAYS[d.weekday()] in expected]
        skipped = days[-4] if kind == "no_return" and len(days) >= 4 else None
        unexplained = days[-5] if kind == "unexplained_absence" and len(days) >= 5 else None
        for day in days:
            if day == skipped:
                continue
            for session in expected[WEEKDAYS[day.weekday()]]:
                if day == unexplained and session == expected[WEEKDAYS[day.weekday()]][0]:
                    values: dict[str, Any] = {"mark": "absent_unauthorised"}
                else:
                    values = _mark(kind, rng, recent=(today - day).days <= WINDOW_DAYS)
                returns.setdefault(p["provider_id"], []).append(
                    {
                        "placement_id": str(p["id"]),
                        "date": day.isoformat(),
                        "session": session,
                        **values,
                    }
                )
    for provider_id, marks in returns.items():
        provider = Principal(provider_id, "provider", CLIENT, frozenset())
        report = await ingest.return_attendance(uow, provider, marks)
        if report["rejected"]:
            _progress(f"attendance: {report['rejected']} marks refused: {report['errors'][:2]}")
    raised = await run_concerns(uow)
    _progress(f"attendance: concerns raised {raised['raised']}")
