"""The statement a report runs for a caller: the optional filters the caller did not
give are dropped from it (so that the plan PostgreSQL keeps for it is one for the filters
given), and those given stay, for every report and every organisation type it serves."""

from __future__ import annotations

import re
from itertools import combinations

from aphub.db.sql import compiled
from aphub.reports.catalogue import REPORTS
from aphub.reports.fragments import OPTIONAL, PLACEMENT_FILTERS, period, without_filters


def _parameters(sql: str) -> set[str]:
    return set(compiled(sql).names)


def test_dropping_no_filter_leaves_the_statement_as_written() -> None:
    for report in REPORTS:
        for kind in sorted(report.audiences):
            sql = report.statement(kind)
            assert without_filters(sql, frozenset()) == sql, report.slug


def test_each_filter_not_given_is_dropped_whole_and_the_others_stay() -> None:
    for report in REPORTS:
        for kind in sorted(report.audiences):
            sql = report.statement(kind)
            takes = _parameters(sql) & set(OPTIONAL)
            for size in range(len(takes) + 1):
                for absent in combinations(sorted(takes), size):
                    settled = without_filters(sql, frozenset(absent))
                    assert _parameters(settled) & set(OPTIONAL) == takes - set(absent), (
                        report.slug,
                        absent,
                    )
                    # whole conditions went: the parentheses still balance
                    assert settled.count("(") == settled.count(")"), (report.slug, absent)


def test_a_dropped_filter_becomes_true_and_only_its_own_condition_goes() -> None:
    school = re.escape("(:school::uuid IS NULL OR p.home_school_id = :school::uuid ")
    assert re.search(school, PLACEMENT_FILTERS)
    settled = without_filters(PLACEMENT_FILTERS, frozenset({"school", "provider"}))
    assert settled == (
        "true AND (:commissioner::uuid IS NULL OR p.commissioner_id = :commissioner::uuid) AND true"
    )
    dated = without_filters(period("f.since"), frozenset({"date_to"}))
    assert dated == "(:date_from::date IS NULL OR f.since >= :date_from::date) AND true"
