"""Reports with one row per placement: the placements an LA (or a school or trust, for
its own commissions) must act on. Each statement selects only placements the sharing
layer lets the caller see (`placement_visible_with_child`)."""

from __future__ import annotations

from aphub.reports.declaration import Column, Report
from aphub.reports.fragments import (
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


def _seen(organisation_type: str) -> str:
    return placement_visible_with_child(organisation_type, ORG, active_policy())


def _past_planned_end(organisation_type: str) -> str:
    return (
        f"SELECT {PLACEMENT_SELECT}, (:today::date - p.planned_end_date) AS days_past_end "  # noqa: S608 - no input
        f"FROM placements p {PLACEMENT_JOINS} WHERE p.status = 'active' "
        f"AND p.planned_end_date < :today::date AND {period('p.planned_end_date')} "
        f"AND {PLACEMENT_FILTERS} AND {_seen(organisation_type)} AND {PAGE_BY_PLACEMENT}"
    )


PAST_PLANNED_END = Report(
    "placements-past-planned-end",
    "Placements past their planned end, still active",
    "Active placements whose planned end date is before today (England): AP that has "
    "become open-ended. days_past_end counts calendar days since the planned end.",
    (*PLACEMENT_COLUMNS, Column("days_past_end", "Calendar days since the planned end")),
    _past_planned_end,
    period="planned_end_date",
)


def _reviews_overdue(organisation_type: str) -> str:
    return (
        f"SELECT {PLACEMENT_SELECT}, p.next_review_date, "  # noqa: S608 - no input
        "(SELECT max(r.held_on) FROM placement_reviews r WHERE r.placement_id = p.id) "
        "AS last_review_on, (:today::date - p.next_review_date) AS days_overdue "
        f"FROM placements p {PLACEMENT_JOINS} WHERE p.status = 'active' "
        "AND (p.next_review_date IS NULL OR p.next_review_date < :today::date) "
        f"AND {period('p.next_review_date')} AND {PLACEMENT_FILTERS} "
        f"AND {_seen(organisation_type)} AND {PAGE_BY_PLACEMENT}"
    )


REVIEWS_OVERDUE = Report(
    "reviews-overdue",
    "Reviews overdue",
    "Active placements whose next review date is before today (England), or that have "
    "none. days_overdue counts calendar days since the review was due (null: never set).",
    (
        *PLACEMENT_COLUMNS,
        Column("next_review_date", "When the next review was due", "placement"),
        Column("last_review_on", "When a review was last held", "placement"),
        Column("days_overdue", "Calendar days since the review was due"),
    ),
    _reviews_overdue,
    period="next_review_date",
)


def _without_plan(organisation_type: str) -> str:
    return (
        f"SELECT {PLACEMENT_SELECT}, o.outcomes AS has_intended_outcomes, "  # noqa: S608 - no input
        "(p.exit_strategy IS NOT NULL) AS has_exit_strategy "
        f"FROM placements p {PLACEMENT_JOINS} CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 "
        "FROM intended_outcomes io WHERE io.placement_id = p.id) AS outcomes) o "
        "WHERE p.status IN ('offered', 'active') "
        f"AND (NOT o.outcomes OR p.exit_strategy IS NULL) AND {period('p.start_date')} "
        f"AND {PLACEMENT_FILTERS} AND {_seen(organisation_type)} AND {PAGE_BY_PLACEMENT}"
    )


WITHOUT_PLAN = Report(
    "placements-without-plan",
    "Placements without intended outcomes or an exit strategy",
    "Offered or active placements with no intended outcome recorded, or no exit strategy "
    "(imported or legacy records: the hub refuses to start a placement without both).",
    (
        *PLACEMENT_COLUMNS,
        Column("has_intended_outcomes", "Whether any intended outcome is recorded", "placement"),
        Column("has_exit_strategy", "Whether an exit strategy is recorded", "placement"),
    ),
    _without_plan,
    period="start_date",
)


def _out_of_area(organisation_type: str) -> str:
    return (
        f"SELECT {PLACEMENT_SELECT}, prov.local_authority_id AS provider_la_id, "  # noqa: S608 - no input
        "pla.name AS provider_la_name, pp.registration_status, pp.qa_status, "
        "pp.qa_assessor_organisation_id AS qa_assessor_id, qa.name AS qa_assessor_name, "
        "pp.qa_last_visit_on, pp.qa_next_due_on "
        f"FROM placements p {PLACEMENT_JOINS} "
        "LEFT JOIN organisations pla ON pla.id = prov.local_authority_id "
        "LEFT JOIN provider_profiles pp ON pp.organisation_id = p.provider_id "
        "LEFT JOIN organisations qa ON qa.id = pp.qa_assessor_organisation_id "
        "WHERE p.status = 'active' "
        "AND prov.local_authority_id IS DISTINCT FROM c.home_la_id "
        f"AND {period('p.start_date')} AND {PLACEMENT_FILTERS} "
        f"AND {_seen(organisation_type)} AND {PAGE_BY_PLACEMENT}"
    )


OUT_OF_AREA = Report(
    "out-of-area-placements",
    "Out-of-area placements",
    "Active placements with a provider located outside the child's home local authority "
    "(or whose location is not recorded), with the provider's quality assurance status and "
    "who assessed it.",
    (
        *PLACEMENT_COLUMNS,
        Column("provider_la_id", "The local authority the provider is located in"),
        Column("provider_la_name", "Its name"),
        Column("registration_status", "The provider's registration (null: not recorded)"),
        Column("qa_status", "The provider's local quality assurance status"),
        Column("qa_assessor_id", "The organisation that carried out the QA"),
        Column("qa_assessor_name", "Its name"),
        Column("qa_last_visit_on", "The last QA visit"),
        Column("qa_next_due_on", "When the next QA is due"),
    ),
    _out_of_area,
    period="start_date",
)


def _arranged_by_schools(organisation_type: str) -> str:
    return (
        f"SELECT {PLACEMENT_SELECT}, p.legal_basis, p.hours_per_week, "  # noqa: S608 - no input
        "pp.registration_status, pp.qa_status "
        f"FROM placements p {PLACEMENT_JOINS} "
        "LEFT JOIN provider_profiles pp ON pp.organisation_id = p.provider_id "
        "WHERE p.status IN ('requested', 'offered', 'active') "
        "AND comm.type IN ('school', 'trust') "
        f"AND {period('p.start_date')} AND {PLACEMENT_FILTERS} "
        f"AND {_seen(organisation_type)} AND {PAGE_BY_PLACEMENT}"
    )


ARRANGED_BY_SCHOOLS = Report(
    "ap-arranged-by-schools",
    "AP arranged by schools and trusts",
    "Current (requested, offered or active) placements commissioned by a school or trust "
    "that you may see: for your residents, at providers in your area, or by schools in "
    "your area. The AP a local authority does not commission itself.",
    (
        *PLACEMENT_COLUMNS,
        Column("legal_basis", "The legal basis of the placement", "placement"),
        Column("hours_per_week", "Hours a week", "placement"),
        Column("registration_status", "The provider's registration (null: not recorded)"),
        Column("qa_status", "The provider's local quality assurance status"),
    ),
    _arranged_by_schools,
    period="start_date",
    audiences=frozenset({"local_authority"}),
)

REPORTS = (PAST_PLANNED_END, REVIEWS_OVERDUE, WITHOUT_PLAN, OUT_OF_AREA, ARRANGED_BY_SCHOOLS)
