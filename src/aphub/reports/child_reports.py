"""Reports about a child's journey: out of education, attendance, breakdowns and where
children went. Each statement selects only what the sharing layer lets the caller see:
placements by `placement_visible_with_child`, children by `visible_condition`."""

from __future__ import annotations

from aphub.reports.declaration import Column, Report
from aphub.reports.fragments import (
    CHILD_COLUMNS,
    ORG,
    PAGE_BY_PLACEMENT,
    PLACEMENT_COLUMNS,
    PLACEMENT_FILTERS,
    PLACEMENT_JOINS,
    PLACEMENT_SELECT,
    period,
)
from aphub.sharing.placements import placement_visible_with_child
from aphub.sharing.policy import active_policy
from aphub.sharing.relationships import visible_condition

# attendance over the six weeks to today (domain.md: persistent under 90%, severe under 50%)
WINDOW_DAYS = 42
PERSISTENT = 90
SEVERE = 50


def _seen(organisation_type: str) -> str:
    return placement_visible_with_child(organisation_type, ORG, active_policy())


def _out_of_education(organisation_type: str) -> str:
    return (
        "SELECT f.id AS key, ARRAY[f.child_id] AS child_ids, f.child_id, "  # noqa: S608 - no input
        "c.legal_first_name, c.legal_last_name, c.year_group, f.kind, f.since, f.raised_on, "
        "(:today::date - f.since) AS days_since, f.responsible_id, "
        "r.name AS responsible_name, r.type AS responsible_type, "
        "(SELECT p.id FROM placements p WHERE p.id = f.subject_id AND p.child_id = c.id "
        f"AND {_seen(organisation_type)}) AS placement_id "
        "FROM education_flags f JOIN children c ON c.id = f.child_id "
        "JOIN organisations r ON r.id = f.responsible_id "
        f"WHERE f.cleared_on IS NULL AND {period('f.since')} "
        f"AND {visible_condition(organisation_type, ORG)} "
        "AND f.id > :after::uuid ORDER BY f.id LIMIT :limit"
    )


OUT_OF_EDUCATION = Report(
    "children-out-of-education",
    "Children out of education",
    "Open out-of-education flags raised by the daily job (sixth_day_breach: no full-time "
    "provision from the sixth school day of an exclusion; part_time_review_overdue; "
    "waiting_for_place: a placement requested and not offered in time; "
    "missing_education: gone from a roll with no new roll or placement), for children you "
    "may see. days_since counts calendar days since the child was without what is owed; "
    "placement_id names the placement a flag is about, when it is one you may see.",
    (
        *CHILD_COLUMNS,
        Column(
            "kind",
            "sixth_day_breach, part_time_review_overdue, waiting_for_place or missing_education",
            "education",
        ),
        Column("since", "The day the child has been without what is owed since", "education"),
        Column("raised_on", "The day the flag was raised", "education"),
        Column("days_since", "Calendar days since then", "education"),
        Column("responsible_id", "The body that owes the provision"),
        Column("responsible_name", "Its name"),
        Column("responsible_type", "local_authority, school or trust"),
        Column("placement_id", "The placement the flag is about (an id you may read)"),
    ),
    _out_of_education,
    period="since",
    filters=(),
    categories=("education", "identity"),
)


def _low_attendance(organisation_type: str) -> str:
    percentage = "round(100.0 * a.attended / a.possible, 1)"
    return (
        f"SELECT {PLACEMENT_SELECT}, a.possible, a.attended, {percentage} AS percentage, "  # noqa: S608 - no input
        f"CASE WHEN {percentage} < {SEVERE} THEN 'severe' ELSE 'persistent' END AS band "
        f"FROM placements p {PLACEMENT_JOINS} CROSS JOIN LATERAL ("
        "SELECT count(*) FILTER (WHERE m.mark <> 'not_required') AS possible, "
        "count(*) FILTER (WHERE m.mark IN ('present', 'late')) AS attended "
        "FROM attendance_marks m WHERE m.placement_id = p.id "
        f"AND m.date > :today::date - {WINDOW_DAYS} AND m.date <= :today::date) a "
        f"WHERE p.status = 'active' AND a.possible > 0 AND {percentage} < {PERSISTENT} "
        f"AND {PLACEMENT_FILTERS} AND {_seen(organisation_type)} AND {PAGE_BY_PLACEMENT}"
    )


LOW_ATTENDANCE = Report(
    "attendance-below-90",
    "Attendance under 90% and under 50% over six weeks",
    f"Active placements whose attendance over the {WINDOW_DAYS} days to today (England) is "
    f"under {PERSISTENT}% (band persistent) or under {SEVERE}% (band severe): sessions "
    "attended (present or late) over possible sessions (every mark but not_required). "
    "Placements with no possible session in the window are not listed.",
    (
        *PLACEMENT_COLUMNS,
        Column("possible", "Possible sessions in the window", "placement"),
        Column("attended", "Sessions attended (present or late)", "placement"),
        Column("percentage", "Attended over possible, per cent, one decimal", "placement"),
        Column("band", "persistent (under 90%) or severe (under 50%)", "placement"),
    ),
    _low_attendance,
)


def _breakdowns(organisation_type: str) -> str:
    ended = (
        "p.status = 'ended' AND p.end_reason = 'breakdown' "
        "AND p.actual_end_date > :today::date - interval '12 months'"
    )
    return (
        "SELECT b.child_id AS key, ARRAY[b.child_id] AS child_ids, b.child_id, "  # noqa: S608 - no input
        "c.legal_first_name, c.legal_last_name, c.year_group, b.breakdowns, "
        "b.placement_ids, b.last_ended_on FROM (SELECT p.child_id, count(*) AS breakdowns, "
        "array_agg(p.id ORDER BY p.actual_end_date, p.id) AS placement_ids, "
        "max(p.actual_end_date) AS last_ended_on FROM placements p "
        f"JOIN children c ON c.id = p.child_id WHERE {ended} "
        f"AND {PLACEMENT_FILTERS} AND {_seen(organisation_type)} "
        "AND p.child_id > :after::uuid GROUP BY p.child_id HAVING count(*) >= 2) b "
        "JOIN children c ON c.id = b.child_id ORDER BY b.child_id LIMIT :limit"
    )


BREAKDOWNS = Report(
    "repeated-breakdowns",
    "Children with two or more placement breakdowns within 12 months",
    "Children with at least two placements you may see that ended with the reason "
    "breakdown in the 12 months to today (England); placement_ids lists them, oldest "
    "first.",
    (
        *CHILD_COLUMNS,
        Column("breakdowns", "How many placements broke down", "placement"),
        Column("placement_ids", "The placements (ids you may read)", many=True),
        Column("last_ended_on", "When the last one ended", "placement"),
    ),
    _breakdowns,
)


def _destinations(organisation_type: str) -> str:
    return (
        f"SELECT {PLACEMENT_SELECT}, p.actual_end_date, p.end_reason, p.destination, "  # noqa: S608 - no input
        "(SELECT f.sustained FROM placement_follow_ups f WHERE f.placement_id = p.id "
        "AND f.kind = 'six_weeks') AS sustained_six_weeks, "
        "(SELECT f.sustained FROM placement_follow_ups f WHERE f.placement_id = p.id "
        "AND f.kind = 'next_term_end') AS sustained_next_term "
        f"FROM placements p {PLACEMENT_JOINS} WHERE p.status = 'ended' "
        f"AND {period('p.actual_end_date')} AND {PLACEMENT_FILTERS} "
        f"AND {_seen(organisation_type)} AND {PAGE_BY_PLACEMENT}"
    )


DESTINATIONS = Report(
    "destinations",
    "Destinations and whether they were sustained",
    "Ended placements you may see, with the destination recorded at the end and whether "
    "it was sustained six weeks after the end and at the end of the next term (null: not "
    "yet followed up).",
    (
        *PLACEMENT_COLUMNS,
        Column("actual_end_date", "The day the placement ended", "placement"),
        Column("end_reason", "Why it ended", "placement"),
        Column("destination", "Where the child went", "placement"),
        Column("sustained_six_weeks", "Sustained six weeks after the end", "placement"),
        Column("sustained_next_term", "Sustained at the end of the next term", "placement"),
    ),
    _destinations,
    period="actual_end_date",
)

REPORTS = (OUT_OF_EDUCATION, LOW_ATTENDANCE, BREAKDOWNS, DESTINATIONS)
