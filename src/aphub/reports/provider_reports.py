"""Reports with one row per provider the caller uses: each row counts and names only the
current placements the sharing layer lets the caller see (`placement_visible_with_child`), beside
the provider's directory facts (registration, quality assurance, safeguarding)."""

from __future__ import annotations

from aphub.registration import FULL_TIME_HOURS, THRESHOLD_PUPILS
from aphub.reports.declaration import Column, Report
from aphub.reports.fragments import ORG, PLACEMENT_FILTERS
from aphub.sharing.placements import placement_visible_with_child
from aphub.sharing.policy import active_policy

ACTIVE = "('active')"
CURRENT = "('requested', 'offered', 'active')"
USED_COLUMNS = (
    Column("provider_id", "The AP provider"),
    Column("provider_name", "Its name"),
    Column("your_placements", "Current placements of yours (that you may see) there"),
    Column("placement_ids", "Those placements (ids you may read)", many=True),
    Column("child_ids", "Their children (ids you may read)", many=True),
)


def _used(organisation_type: str, statuses: str, providers: str) -> str:
    """Providers among `providers` (a SELECT of organisation ids: the report's providers,
    decided from the directory first, once per statement, so that only their placements
    are read, by provider and status) with the caller's visible placements in
    `statuses`, grouped."""
    return (
        "SELECT p.provider_id, count(*) AS your_placements, "  # noqa: S608 - no input
        "array_agg(p.id ORDER BY p.id) AS placement_ids, "
        "array_agg(DISTINCT p.child_id) AS child_ids FROM placements p "
        "JOIN children c ON c.id = p.child_id "
        f"WHERE p.status IN {statuses} AND p.provider_id = ANY(ARRAY({providers})) "
        f"AND {PLACEMENT_FILTERS} "
        f"AND {placement_visible_with_child(organisation_type, ORG, active_policy())} "
        "AND p.provider_id > :after::uuid GROUP BY p.provider_id"
    )


# providers whose registration is unregistered, or not recorded (a placement's provider is
# always an organisation of type provider)
UNREGISTERED_PROVIDERS = (
    "SELECT o.id FROM organisations o LEFT JOIN provider_profiles r "
    "ON r.organisation_id = o.id WHERE o.type = 'provider' "
    "AND (r.registration_status IS NULL OR r.registration_status = 'unregistered')"
)


def _unregistered(organisation_type: str) -> str:
    # the threshold counts every full-time pupil at the provider, not only the caller's:
    # a number (as the directory's alert gives it), no child named
    return (
        "SELECT u.provider_id AS key, u.child_ids, u.provider_id, o.name AS provider_name, "  # noqa: S608 - no input
        "u.your_placements, u.placement_ids, pp.census_setting_type, pp.qa_status, "
        "t.full_time_pupils, t.full_time_ehcp_or_looked_after, "
        f"CASE WHEN t.full_time_pupils >= {THRESHOLD_PUPILS} "
        "OR t.full_time_ehcp_or_looked_after > 0 THEN 'over' "
        f"WHEN t.full_time_pupils = {THRESHOLD_PUPILS - 1} THEN 'one_away' "
        "ELSE 'under' END AS threshold "
        f"FROM ({_used(organisation_type, ACTIVE, UNREGISTERED_PROVIDERS)}) u "
        "JOIN organisations o ON o.id = u.provider_id "
        "LEFT JOIN provider_profiles pp ON pp.organisation_id = u.provider_id "
        "CROSS JOIN LATERAL (SELECT count(*) AS full_time_pupils, "
        "count(*) FILTER (WHERE fc.looked_after OR fc.sen_provision = 'ehcp') "
        "AS full_time_ehcp_or_looked_after FROM placements a "
        "JOIN children fc ON fc.id = a.child_id WHERE a.provider_id = u.provider_id "
        f"AND a.status = 'active' AND a.hours_per_week >= {FULL_TIME_HOURS}) t "
        "ORDER BY u.provider_id LIMIT :limit"
    )


UNREGISTERED = Report(
    "unregistered-providers",
    "Unregistered providers in use",
    "Providers that are unregistered (or whose registration is not recorded) with active "
    "placements of yours, and each one's count against the registration threshold: a "
    f"setting educating {THRESHOLD_PUPILS} or more pupils full time ({FULL_TIME_HOURS} "
    "hours a week or more), or one full-time pupil with an EHC plan or looked after, must "
    "register as an independent school. threshold is over, one_away (one more full-time "
    "pupil would cross it) or under; the counts are of every active placement at the "
    "provider, yours and others'.",
    (
        *USED_COLUMNS,
        Column("census_setting_type", "AP census setting type (NFE, OOT, OTH, WBP)"),
        Column("qa_status", "The provider's local quality assurance status"),
        Column("full_time_pupils", "Full-time pupils at the provider (all commissioners)"),
        Column(
            "full_time_ehcp_or_looked_after",
            "Of those, pupils with an EHC plan or looked after",
        ),
        Column("threshold", "over, one_away or under the registration threshold"),
    ),
    _unregistered,
    categories=("placement",),
)


def _attention(organisation_type: str) -> str:
    concerns = (
        "(SELECT count(*) FROM provider_concerns pc WHERE pc.provider_id = o.id "
        "AND pc.category = 'safeguarding' AND pc.raised_at > :today::date - interval '12 months')"
    )
    reasons = (
        "array_remove(ARRAY["
        "CASE WHEN pp.qa_next_due_on < :today::date THEN 'qa_overdue' END, "
        "CASE WHEN pp.qa_status IN ('suspended', 'removed') THEN 'qa_' || pp.qa_status END, "
        "CASE WHEN pp.qa_status IS NULL OR pp.qa_status = 'not_assessed' "
        "THEN 'qa_not_assessed' END, "
        f"CASE WHEN {concerns} > 0 THEN 'safeguarding_concern' END, "
        "CASE WHEN pp.staff_checks_confirmed_on IS NULL THEN 'staff_checks_unconfirmed' END, "
        "CASE WHEN pp.insurance_expires_on < :today::date THEN 'insurance_expired' END, "
        "CASE WHEN pp.safeguarding_policy_reviewed_on < :today::date - interval '12 months' "
        "THEN 'safeguarding_policy_out_of_date' END]::text[], NULL)"
    )
    # the providers needing attention, from the directory (a placement's provider is
    # always an organisation of type provider): only their placements are then read
    flagged = (
        "SELECT * FROM (SELECT o.id, o.name, pp.registration_status, pp.qa_status, "  # noqa: S608 - no input
        "pp.qa_next_due_on, pp.qa_last_visit_on, "
        f"{concerns} AS safeguarding_concerns, {reasons} AS reasons "
        "FROM organisations o LEFT JOIN provider_profiles pp ON pp.organisation_id = o.id "
        "WHERE o.type = 'provider') f WHERE cardinality(f.reasons) > 0"
    )
    return (
        f"WITH flagged AS ({flagged}) "  # noqa: S608 - no input
        "SELECT u.provider_id AS key, u.child_ids, u.provider_id, f.name AS provider_name, "
        "u.your_placements, u.placement_ids, f.registration_status, f.qa_status, "
        "f.qa_next_due_on, f.qa_last_visit_on, f.safeguarding_concerns, f.reasons "
        f"FROM ({_used(organisation_type, CURRENT, 'SELECT flagged.id FROM flagged')}) u "
        "JOIN flagged f ON f.id = u.provider_id ORDER BY u.provider_id LIMIT :limit"
    )


ATTENTION = Report(
    "providers-needing-attention",
    "Providers with QA overdue or safeguarding alerts",
    "Providers with current placements of yours whose quality assurance is overdue "
    "(qa_overdue), suspended or removed, or never assessed, or with a safeguarding alert: "
    "a safeguarding concern raised in the last 12 months, staff checks not confirmed "
    "(KCSIE), insurance expired, or a safeguarding policy not reviewed in 12 months.",
    (
        *USED_COLUMNS,
        Column("registration_status", "The provider's registration (null: not recorded)"),
        Column("qa_status", "The provider's local quality assurance status"),
        Column("qa_next_due_on", "When the next QA is due"),
        Column("qa_last_visit_on", "The last QA visit"),
        Column("safeguarding_concerns", "Safeguarding concerns raised in 12 months"),
        Column("reasons", "Why the provider is listed", many=True),
    ),
    _attention,
)

REPORTS = (UNREGISTERED, ATTENTION)
