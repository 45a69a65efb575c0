"""An area at a glance, for a local authority: the figures of the oversight page, also
served as JSON (`GET /v1/oversight/overview`) so the page never shows a number an
integrator cannot check.

Everything here is counted over the placements the caller may see (the sharing layer's
`placement_visible`, as every placement list) and the out-of-education flags addressed to
it about children it may see (as `GET /v1/education/flags`). The children the page names
(those needing action) are read through the sharing layer and audited as one list read.

- headline: children in AP today (distinct children with an active placement), active
  placements, placements requested or offered and not started, active placements at
  unregistered providers, out of area (the provider is not in the child's home LA),
  past their planned end, with a review overdue, below the area's full time;
- children in AP by month and reason: for each of the last twelve months, the children
  with a placement active at some time in it, by the placement's primary reason;
- attendance: each active placement's attendance over the last six weeks (42 days),
  in bands (under 50%, 50-79%, 80-89%, 90% and over, no marks);
- days without education: the open sixth-day breaches and missing-education flags, with
  the school days since each began on the home LA's calendar, in bands;
- children needing action: open out-of-education flags, placements past their planned
  end or with a review overdue, and attendance concerns (below 50% or 90%) of the last
  fortnight, most urgent first.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from aphub.attendance.calendar import calendars
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import Forbidden
from aphub.sharing import gate
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy
from aphub.sharing.relationships import visible_condition

ORG = ":org::uuid"
ATTENDANCE_DAYS = 42
CONCERN_DAYS = 14
NEEDING_ACTION_LIMIT = 100
ATTENDANCE_BANDS = ("under_50", "50_to_79", "80_to_89", "90_and_over", "no_marks")
DAYS_BANDS = ("1_to_5", "6_to_10", "11_to_20", "over_20")
# the order in which the kinds of action are listed: a child without education first
URGENCY = {
    "sixth_day_breach": 0,
    "missing_education": 1,
    "attendance_below_50": 2,
    "waiting_for_place": 3,
    "part_time_review_overdue": 4,
    "attendance_below_90": 5,
    "review_overdue": 6,
    "past_planned_end": 7,
}


@cache
def _headline_sql(policy: Policy) -> str:
    visible = placement_visible("local_authority", ORG, policy)
    active = "p.status = 'active'"
    return (
        f"SELECT count(DISTINCT p.child_id) FILTER (WHERE {active}) AS children_in_ap, "
        f"count(*) FILTER (WHERE {active}) AS active_placements, "
        "count(*) FILTER (WHERE p.status IN ('requested', 'offered')) AS not_started, "
        f"count(*) FILTER (WHERE {active} AND pp.registration_status = 'unregistered') "
        "AS unregistered, "
        f"count(*) FILTER (WHERE {active} AND prov.local_authority_id IS DISTINCT FROM "
        "c.home_la_id) AS out_of_area, "
        f"count(*) FILTER (WHERE {active} AND p.planned_end_date < :today::date) "
        "AS past_planned_end, "
        f"count(*) FILTER (WHERE {active} AND p.next_review_date < :today::date) "
        "AS review_overdue, "
        f"count(*) FILTER (WHERE {active} AND p.hours_per_week < :full_time) AS part_time "
        "FROM placements p JOIN children c ON c.id = p.child_id "
        "JOIN organisations prov ON prov.id = p.provider_id "
        "LEFT JOIN provider_profiles pp ON pp.organisation_id = p.provider_id "
        f"WHERE {visible}"
    )


@cache
def _by_month_sql(policy: Policy) -> str:
    visible = placement_visible("local_authority", ORG, policy)
    return (
        "SELECT to_char(m.month, 'YYYY-MM') AS month, p.primary_reason AS reason, "
        "count(DISTINCT p.child_id) AS children "
        "FROM generate_series(:first_month::date, :last_month::date, interval '1 month') "
        "AS m(month) JOIN placements p ON p.status IN ('active', 'ended') "
        "AND p.start_date < (m.month + interval '1 month')::date "
        "AND (p.actual_end_date IS NULL OR p.actual_end_date >= m.month::date) "
        f"WHERE {visible} GROUP BY 1, 2 ORDER BY 1, 2"
    )


@cache
def _attendance_sql(policy: Policy) -> str:
    visible = placement_visible("local_authority", ORG, policy)
    return (
        "SELECT s.possible, s.attended FROM placements p CROSS JOIN LATERAL ("
        "SELECT count(*) FILTER (WHERE m.mark <> 'not_required') AS possible, "
        "count(*) FILTER (WHERE m.mark IN ('present', 'late')) AS attended "
        "FROM attendance_marks m WHERE m.placement_id = p.id AND m.date > :since) s "
        f"WHERE p.status = 'active' AND {visible}"
    )


@cache
def _flags_sql() -> str:
    return (
        "SELECT f.child_id, f.kind, f.subject_id, f.since, c.home_la_id "
        "FROM education_flags f JOIN children c ON c.id = f.child_id "
        "WHERE f.cleared_on IS NULL AND (f.responsible_id = :org OR f.home_la_id = :org) "
        f"AND {visible_condition('local_authority', ORG)}"
    )


@cache
def _placement_actions_sql(policy: Policy) -> str:
    visible = placement_visible("local_authority", ORG, policy)
    return (
        "SELECT p.child_id, p.id AS placement_id, "
        f"CASE WHEN p.next_review_date < :today::date THEN 'review_overdue' "
        "ELSE 'past_planned_end' END AS kind, "
        f"CASE WHEN p.next_review_date < :today::date THEN p.next_review_date "
        "ELSE p.planned_end_date END AS since "
        "FROM placements p WHERE p.status = 'active' "
        "AND (p.next_review_date < :today::date OR p.planned_end_date < :today::date) "
        f"AND {visible}"
    )


@cache
def _concerns_sql(policy: Policy) -> str:
    visible = placement_visible("local_authority", ORG, policy)
    return (
        "SELECT DISTINCT ON (x.placement_id) p.child_id, p.id AS placement_id, "
        "'attendance_' || x.kind AS kind, x.window_from AS since, x.percentage "
        "FROM attendance_concerns x JOIN placements p ON p.id = x.placement_id "
        "WHERE x.kind IN ('below_50', 'below_90') AND x.day >= :since "
        f"AND p.status = 'active' AND {visible} "
        "ORDER BY x.placement_id, x.kind = 'below_50' DESC, x.day DESC"
    )


def _require_la(principal: Principal) -> None:
    if principal.organisation_type != "local_authority":
        raise Forbidden("The area overview is for local authorities")


def attendance_band(possible: int, attended: int) -> str:
    if possible == 0:
        return "no_marks"
    share = attended * 100 / possible
    if share < 50:
        return "under_50"
    if share < 80:
        return "50_to_79"
    if share < 90:
        return "80_to_89"
    return "90_and_over"


def days_band(days: int) -> str:
    if days <= 5:
        return "1_to_5"
    if days <= 10:
        return "6_to_10"
    if days <= 20:
        return "11_to_20"
    return "over_20"


def _months(today: date) -> tuple[date, date, list[str]]:
    last = today.replace(day=1)
    first = last
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    names, month = [], first
    while month <= last:
        names.append(month.strftime("%Y-%m"))
        month = (month + timedelta(days=32)).replace(day=1)
    return first, last, names


async def overview(unit: ReadUnit, principal: Principal, today: date) -> dict[str, Any]:
    """The figures of the area overview as at `today` (England)."""
    _require_la(principal)
    policy = active_policy()
    org = principal.organisation_id
    headline = dict(
        await unit.fetchrow(
            _headline_sql(policy), org=org, today=today, full_time=policy.area.full_time_hours
        )
        or {}
    )
    first, last, months = _months(today)
    by_month: dict[str, dict[str, int]] = {m: {} for m in months}
    for row in await unit.fetch(_by_month_sql(policy), org=org, first_month=first, last_month=last):
        by_month[row["month"]][row["reason"]] = row["children"]
    reasons = Counter[str]()
    for counts in by_month.values():
        reasons.update(counts)
    bands = Counter(
        attendance_band(r["possible"], r["attended"])
        for r in await unit.fetch(
            _attendance_sql(policy), org=org, since=today - timedelta(days=ATTENDANCE_DAYS)
        )
    )
    flags = await unit.fetch(_flags_sql(), org=org)
    without = [f for f in flags if f["kind"] in ("sixth_day_breach", "missing_education")]
    days = await _school_days_since(unit, without, today)
    actions = await _needing_action(unit, principal, flags, days, today)
    headline["open_flags"] = len(flags)
    headline["without_education"] = len({f["child_id"] for f in without})
    return {
        "as_of": today.isoformat(),
        "computed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "headline": headline,
        "children_by_month": [
            {"month": m, "children": sum(by_month[m].values()), "by_reason": by_month[m]}
            for m in months
        ],
        "reasons": sorted(reasons),
        "attendance_bands": {band: bands.get(band, 0) for band in ATTENDANCE_BANDS},
        "days_without_education": {
            band: sum(1 for d in days.values() if days_band(d) == band) for band in DAYS_BANDS
        },
        "needing_action": actions,
    }


async def _school_days_since(
    unit: ReadUnit, flags: list[Any], today: date
) -> dict[tuple[uuid.UUID, str], int]:
    """School days from each flag's start to today (both counted), per (child, kind)."""
    if not flags:
        return {}
    earliest = min(f["since"] for f in flags)
    by_la = await calendars(unit, sorted({f["home_la_id"] for f in flags}), earliest)
    return {
        (f["child_id"], f["kind"]): by_la[f["home_la_id"]].count_school_days(f["since"], today)
        for f in flags
    }


async def _needing_action(
    unit: ReadUnit,
    principal: Principal,
    flags: list[Any],
    days: dict[tuple[uuid.UUID, str], int],
    today: date,
) -> list[dict[str, Any]]:
    policy = active_policy()
    org = principal.organisation_id
    items: list[dict[str, Any]] = [
        {
            "kind": f["kind"],
            "child_id": f["child_id"],
            "placement_id": f["subject_id"] if f["kind"] != "sixth_day_breach" else None,
            "since": f["since"],
            "school_days": days.get((f["child_id"], f["kind"])),
        }
        for f in flags
    ]
    for row in await unit.fetch(_placement_actions_sql(policy), org=org, today=today):
        items.append({**dict(row), "school_days": None})
    since = today - timedelta(days=CONCERN_DAYS)
    for row in await unit.fetch(_concerns_sql(policy), org=org, since=since):
        items.append(
            {
                "kind": row["kind"],
                "child_id": row["child_id"],
                "placement_id": row["placement_id"],
                "since": row["since"],
                "school_days": None,
                "percentage": float(row["percentage"]),
            }
        )
    items.sort(key=lambda i: (URGENCY.get(i["kind"], 99), i["since"], str(i["child_id"])))
    items = items[:NEEDING_ACTION_LIMIT]
    children = await gate.read_children_by_ids(
        unit, principal, [i["child_id"] for i in items], surface="oversight"
    )
    named: list[dict[str, Any]] = []
    for item in items:
        child = children.get(item["child_id"])
        if child is None:  # hidden since the flag was raised: not named, not counted here
            continue
        named.append({**item, "child_name": _name(child)})
    return named


def _name(child: dict[str, Any]) -> str | None:
    parts = [
        child.get("preferred_name") or child.get("legal_first_name"),
        child.get("legal_last_name"),
    ]
    words = [p for p in parts if p]
    return " ".join(words) if words else None


def month_totals(summary: dict[str, Any]) -> dict[str, int]:
    return {m["month"]: m["children"] for m in summary["children_by_month"]}


def group_actions(summary: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in summary["needing_action"]:
        grouped[item["kind"]].append(item)
    return dict(grouped)
