"""Every report the hub answers, most asked-for first (the order `GET /v1/reports` lists
them in)."""

from __future__ import annotations

from aphub.reports import child_reports, placement_reports, provider_reports
from aphub.reports.declaration import Report

REPORTS: tuple[Report, ...] = (
    child_reports.OUT_OF_EDUCATION,
    placement_reports.PAST_PLANNED_END,
    placement_reports.REVIEWS_OVERDUE,
    provider_reports.UNREGISTERED,
    placement_reports.OUT_OF_AREA,
    child_reports.LOW_ATTENDANCE,
    child_reports.BREAKDOWNS,
    child_reports.DESTINATIONS,
    placement_reports.ARRANGED_BY_SCHOOLS,
    provider_reports.ATTENTION,
    placement_reports.WITHOUT_PLAN,
)
BY_SLUG = {r.slug: r for r in REPORTS}
assert len(BY_SLUG) == len(REPORTS), "report names are unique"
# a definition travels in the `Report-Definition` header of a CSV answer (latin-1 only)
assert all(r.definition.isascii() for r in REPORTS), "report definitions are ASCII"
