"""Attendance concerns, raised by the hub to the commissioner and the child's home LA:

- `no_return`: no mark at all for a school day (of the placement's pattern, if it has
  one) by 10:00 the next school day; looked for over the last two weeks;
- `unexplained_absence`: an unauthorised absence with no note, on a school day (one
  concern per placement and day, naming the sessions); raised as soon as it is returned;
- `below_90` / `below_50`: attendance under 90% (persistent absence) or under 50%
  (severe) over the six weeks ending with the last complete school week, once at least
  ten sessions were possible; only the more severe of the two is raised, once per
  window end (so at most weekly while it lasts).

Each concern is a row unique on (placement, kind, school day or window end), inserted
with ON CONFLICT DO NOTHING; its event is recorded only for rows actually inserted, so
any number of runs, concurrent or repeated, raise each concern exactly once. A run
takes a transaction-level advisory lock first and skips when another run holds it:
the lock saves work, the unique constraint is what guarantees.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from aphub.attendance.calendar import Calendar, calendars
from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.errors import Forbidden
from aphub.events.log import Actor, record
from aphub.ids import uuid7

NO_RETURN_LOOKBACK_DAYS = 14
ABSENCE_LOOKBACK_DAYS = 42
WINDOW_DAYS = 42  # six weeks
MIN_POSSIBLE_SESSIONS = 10
KINDS = ("no_return", "unexplained_absence", "below_90", "below_50")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

LockMode = Literal["skip", "wait", "none"]
LOCK_KEY = "hashtextextended('aphub:attendance-concerns', 0)"
# concerns per INSERT (a national data set raises hundreds of thousands in one run)
INSERT_CHUNK = 5_000
# the run's moment, local (what school days and 10:00 deadlines are in) and UTC (as reported)
CLOCK = (
    "SELECT coalesce(:as_of::timestamp, (now() AT TIME ZONE 'Europe/London')::timestamp) "
    "AS local, coalesce(:as_of::timestamp AT TIME ZONE 'Europe/London', now()) AS utc"
)
# placements whose concerns a run considers: the whole hub, or one LA's area (the
# children it is home LA for, and the placements it commissioned)
SCOPE = "(:la_id::uuid IS NULL OR c.home_la_id = :la_id OR p.commissioner_id = :la_id)"
CURRENT_ON = "(p.status = 'active' OR (p.status = 'ended' AND p.actual_end_date >= {day}))"

HOME_LAS = (
    "SELECT DISTINCT c.home_la_id FROM placements p JOIN children c ON c.id = p.child_id "
    f"WHERE {CURRENT_ON.format(day=':since')} AND {SCOPE}"
)
NO_RETURN = (
    "SELECT p.id, p.child_id, p.commissioner_id, c.home_la_id, d.day "
    "FROM unnest(:la_ids::uuid[], :days::date[], :weekdays::text[]) AS d(la_id, day, weekday) "
    "JOIN children c ON c.home_la_id = d.la_id JOIN placements p ON p.child_id = c.id "
    f"WHERE {CURRENT_ON.format(day='d.day')} AND p.start_date <= d.day "
    "AND (jsonb_typeof(p.pattern -> 'days') IS DISTINCT FROM 'array' "
    "OR jsonb_array_length(p.pattern -> 'days') = 0 "
    "OR p.pattern -> 'days' @> jsonb_build_array(jsonb_build_object('day', d.weekday))) "
    "AND NOT EXISTS (SELECT 1 FROM attendance_marks m WHERE m.placement_id = p.id "
    "AND m.date = d.day) "
    "AND NOT EXISTS (SELECT 1 FROM attendance_concerns x WHERE x.placement_id = p.id "
    "AND x.kind = 'no_return' AND x.day = d.day) "
    f"AND {SCOPE}"
)
UNEXPLAINED = (
    "SELECT p.id, p.child_id, p.commissioner_id, c.home_la_id, m.date AS day, "
    "string_agg(m.session, ',' ORDER BY m.session) AS sessions "
    "FROM attendance_marks m JOIN placements p ON p.id = m.placement_id "
    "JOIN children c ON c.id = p.child_id "
    "JOIN unnest(:la_ids::uuid[], :days::date[]) AS d(la_id, day) "
    "ON d.la_id = c.home_la_id AND d.day = m.date "
    "WHERE m.mark = 'absent_unauthorised' AND m.note IS NULL "
    "AND m.date BETWEEN :from_date AND :to_date "
    "AND NOT EXISTS (SELECT 1 FROM attendance_concerns x WHERE x.placement_id = p.id "
    "AND x.kind = 'unexplained_absence' AND x.day = m.date) "
    f"AND {SCOPE} "
    "GROUP BY p.id, p.child_id, p.commissioner_id, c.home_la_id, m.date"
)
BELOW = (
    "SELECT p.id, p.child_id, p.commissioner_id, c.home_la_id, w.window_end AS day, "
    "greatest(w.window_from, p.start_date) AS window_from, s.possible, s.attended "
    "FROM unnest(:la_ids::uuid[], :window_froms::date[], :window_ends::date[]) "
    "AS w(la_id, window_from, window_end) "
    "JOIN children c ON c.home_la_id = w.la_id JOIN placements p ON p.child_id = c.id "
    "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE m.mark <> 'not_required') AS possible, "
    "count(*) FILTER (WHERE m.mark IN ('present', 'late')) AS attended "
    "FROM attendance_marks m WHERE m.placement_id = p.id "
    "AND m.date BETWEEN greatest(w.window_from, p.start_date) AND w.window_end) s "
    f"WHERE {CURRENT_ON.format(day='w.window_end')} AND p.start_date <= w.window_end "
    "AND s.possible >= :min_possible AND s.attended * 100 < 90 * s.possible "
    f"AND {SCOPE}"
)
INSERT = (
    "INSERT INTO attendance_concerns (id, placement_id, child_id, commissioner_id, "
    "home_la_id, kind, day, window_from, possible, attended, percentage, sessions) "
    "SELECT * FROM unnest(:id::uuid[], :placement_id::uuid[], :child_id::uuid[], "
    ":commissioner_id::uuid[], :home_la_id::uuid[], :kind::text[], :day::date[], "
    ":window_from::date[], :possible::int[], :attended::int[], :percentage::numeric[], "
    ":sessions::text[]) "
    "ON CONFLICT (placement_id, kind, day) DO NOTHING "
    "RETURNING id, placement_id, child_id, commissioner_id, home_la_id, kind, day, "
    "window_from, possible, attended, percentage, sessions"
)


def _percentage(attended: int, possible: int) -> float:
    return round(attended * 100 / possible, 1)


async def _lock(uow: WriteUnit, mode: LockMode) -> bool:
    # the run's lock and the concerns it inserts are one transaction (the unit's)
    if mode == "none":
        return True
    if mode == "wait":
        await uow.fetchrow(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        return True
    row = await uow.fetchrow(f"SELECT pg_try_advisory_xact_lock({LOCK_KEY}) AS locked")
    return bool(row["locked"])


def _days_due(cal: Calendar, as_of: datetime) -> list[date]:
    today = as_of.date()
    first = today - timedelta(days=NO_RETURN_LOOKBACK_DAYS)
    return [d for d in cal.school_days(first, today) if cal.deadline(d) <= as_of]


async def _candidates(
    uow: WriteUnit, as_of: datetime, la_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    today = as_of.date()
    since = today - timedelta(days=max(ABSENCE_LOOKBACK_DAYS, WINDOW_DAYS))
    home_las = [r["home_la_id"] for r in await uow.fetch(HOME_LAS, since=since, la_id=la_id)]
    if not home_las:
        return []
    cals = await calendars(uow, home_las, since - timedelta(days=7))
    due: list[tuple[uuid.UUID, date]] = []
    absence_days: list[tuple[uuid.UUID, date]] = []
    windows: list[tuple[uuid.UUID, date, date]] = []
    for la, cal in cals.items():
        due += [(la, d) for d in _days_due(cal, as_of)]
        first = today - timedelta(days=ABSENCE_LOOKBACK_DAYS)
        absence_days += [(la, d) for d in cal.school_days(first, today)]
        end = cal.last_complete_week_end(as_of)
        if end is not None:
            windows.append((la, end - timedelta(days=WINDOW_DAYS - 1), end))
    found: list[dict[str, Any]] = []
    if due:
        rows = await uow.fetch(
            NO_RETURN,
            la_ids=[la for la, _ in due],
            days=[d for _, d in due],
            weekdays=[WEEKDAYS[d.weekday()] for _, d in due],
            la_id=la_id,
        )
        found += [{**dict(r), "kind": "no_return"} for r in rows]
    if absence_days:
        rows = await uow.fetch(
            UNEXPLAINED,
            la_ids=[la for la, _ in absence_days],
            days=[d for _, d in absence_days],
            from_date=today - timedelta(days=ABSENCE_LOOKBACK_DAYS),
            to_date=today,
            la_id=la_id,
        )
        found += [{**dict(r), "kind": "unexplained_absence"} for r in rows]
    if windows:
        rows = await uow.fetch(
            BELOW,
            la_ids=[w[0] for w in windows],
            window_froms=[w[1] for w in windows],
            window_ends=[w[2] for w in windows],
            min_possible=MIN_POSSIBLE_SESSIONS,
            la_id=la_id,
        )
        for r in rows:
            severe = r["attended"] * 100 < 50 * r["possible"]
            found.append(
                {
                    **dict(r),
                    "kind": "below_50" if severe else "below_90",
                    "percentage": _percentage(r["attended"], r["possible"]),
                }
            )
    return found


async def run_concerns(
    uow: WriteUnit,
    *,
    as_of: datetime | None = None,
    la_id: uuid.UUID | None = None,
    lock: LockMode = "skip",
) -> dict[str, Any]:
    """Raise every concern due at `as_of` (local time in England; default now), for the
    whole hub or one local authority's area. Returns how many of each kind were raised."""
    clock = await uow.fetchrow(CLOCK, as_of=as_of)
    as_of = clock["local"]
    assert as_of is not None
    result: dict[str, Any] = {
        "as_of": clock["utc"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "scope": str(la_id) if la_id else "hub",
        "skipped": False,
        "raised": dict.fromkeys(KINDS, 0),
    }
    if not await _lock(uow, lock):
        result["skipped"] = True
        return result
    found = await _candidates(uow, as_of, la_id)
    if not found:
        return result
    inserted: list[Any] = []
    for start in range(0, len(found), INSERT_CHUNK):
        chunk = found[start : start + INSERT_CHUNK]
        inserted += await uow.fetch(
            INSERT,
            id=[uuid7() for _ in chunk],
            placement_id=[c["id"] for c in chunk],
            **{
                name: [c.get(name) for c in chunk]
                for name in ("child_id", "commissioner_id", "home_la_id", "kind", "day")
            },
            **{
                name: [c.get(name) for c in chunk]
                for name in ("window_from", "possible", "attended", "percentage", "sessions")
            },
        )
    actor = Actor.system("attendance-concerns")
    for row in inserted:
        record(
            uow,
            type="attendance.concern_raised",
            subject_type="attendance_concern",
            subject_id=row["id"],
            child_id=row["child_id"],
            actor=actor,
            data=concern_event_data(row),
        )
    result["raised"].update(Counter(row["kind"] for row in inserted))
    return result


def concern_event_data(row: Any) -> dict[str, Any]:
    percentage = row["percentage"]
    return {
        "kind": row["kind"],
        "placement_id": str(row["placement_id"]),
        "day": row["day"].isoformat(),
        "window_from": row["window_from"].isoformat() if row["window_from"] else None,
        "possible": row["possible"],
        "attended": row["attended"],
        "percentage": float(percentage) if percentage is not None else None,
        "sessions": row["sessions"],
        "commissioner_id": str(row["commissioner_id"]),
        "home_la_id": str(row["home_la_id"]),
        # who it is raised to (the feed and webhooks deliver it to them)
        "notify": sorted({str(row["commissioner_id"]), str(row["home_la_id"])}),
    }


async def run_on_demand(uow: WriteUnit, principal: Principal) -> dict[str, Any]:
    """A local authority computes its own area now; the operator the whole hub."""
    if principal.organisation_type == "local_authority":
        principal.require("attendance:write")
        return await run_concerns(uow, la_id=principal.organisation_id, lock="wait")
    if principal.organisation_type == "operator":
        principal.require("organisations:admin")
        return await run_concerns(uow, lock="wait")
    raise Forbidden("Only a local authority (for its area) or the operator runs concerns")
