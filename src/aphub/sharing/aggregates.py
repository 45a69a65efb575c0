"""The children an organisation may count but never read (sharing.md, "Dashboards").

A `dashboard` sees aggregates only; a local authority sees the statistics of its own area.
Both are answered from one population, the children in alternative provision during a
period, built here so that the statistics module reads child tables only through the
sharing layer. No row of it is ever answered: `aphub.statistics` groups it into counts
and passes every count through disclosure control before anything leaves the hub.

A local authority's figures are cut from the same national table a dashboard's are (its
row of it), so that the suppression pattern of a cell is the same whoever asks; the
statement therefore reads every child, and the answer holds only the caller's row.
"""

from __future__ import annotations

from aphub.errors import Forbidden

# Organisation types that may read statistics (with `reports:read`).
AGGREGATE_READERS = frozenset({"dashboard", "local_authority"})

# Each child once, by the most recent placement that ran during the period
# (`:period_start` to `:period_end`): started on or before its end, not ended before its
# start. Requested, offered, declined and cancelled placements never ran.
_POPULATION = (
    "SELECT DISTINCT ON (p.child_id) p.child_id, c.home_la_id, p.id AS placement_id, "
    "p.primary_reason, p.start_date, p.actual_end_date, p.destination, "
    "c.sen_provision, c.year_group, pp.registration_status "
    "FROM placements p JOIN children c ON c.id = p.child_id "
    "LEFT JOIN provider_profiles pp ON pp.organisation_id = p.provider_id "
    "WHERE p.status IN ('active', 'ended') AND p.start_date <= :period_end "
    "AND (p.actual_end_date IS NULL OR p.actual_end_date >= :period_start) "
    "AND c.merged_into_id IS NULL "
    "ORDER BY p.child_id, p.start_date DESC, p.id DESC"
)
# Sessions each child attended and could have attended during the period, across every
# placement of theirs that ran in it (`not_required` sessions count for neither).
_ATTENDANCE = (
    "SELECT q.child_id, count(*) FILTER (WHERE m.mark IN ('present', 'late')) AS attended, "
    "count(*) FILTER (WHERE m.mark <> 'not_required') AS possible "
    "FROM placements q JOIN attendance_marks m ON m.placement_id = q.id "
    "WHERE q.status IN ('active', 'ended') AND q.start_date <= :period_end "
    "AND m.date BETWEEN :period_start AND :period_end GROUP BY q.child_id"
)


def require_aggregate_reader(organisation_type: str) -> None:
    """Statistics are for dashboards and local authorities: a school or trust reads its own
    children through the reports, which name them; the operator sees no child data."""
    if organisation_type not in AGGREGATE_READERS:
        raise Forbidden("Statistics are read by dashboards and local authorities")


def aggregate_population(organisation_type: str, *, attendance: bool = False) -> str:
    """SQL of the period's population (columns of `_POPULATION`, plus `attended` and
    `possible` when `attendance`), for an organisation that may count it."""
    require_aggregate_reader(organisation_type)
    if not attendance:
        return _POPULATION
    return (
        f"SELECT pop.*, coalesce(att.attended, 0) AS attended, "
        f"coalesce(att.possible, 0) AS possible FROM ({_POPULATION}) pop "
        f"LEFT JOIN ({_ATTENDANCE}) att ON att.child_id = pop.child_id"
    )
