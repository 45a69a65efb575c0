"""Pieces of SQL every report statement shares: its filters, its page, and the columns
naming a placement's child, provider and commissioner. None of them reads a child table
on its own: each report module composes them with the sharing layer's condition."""

from __future__ import annotations

import re

from aphub.reports.declaration import Column

ORG = ":org::uuid"
# The parameters of the optional filters. Each is written `(:name::type IS NULL OR ...)`,
# a condition `without_filters` can drop whole when the caller does not give it.
OPTIONAL = ("date_from", "date_to", "provider", "commissioner", "school")
# the filters on placement row `p`
PLACEMENT_FILTERS = (
    "(:provider::uuid IS NULL OR p.provider_id = :provider::uuid) "
    "AND (:commissioner::uuid IS NULL OR p.commissioner_id = :commissioner::uuid) "
    "AND (:school::uuid IS NULL OR p.home_school_id = :school::uuid "
    "OR p.commissioner_id = :school::uuid)"
)


def period(expression: str) -> str:
    """`expression` (a date) within the `from`/`to` period, each end optional."""
    return (
        f"(:date_from::date IS NULL OR {expression} >= :date_from::date) "
        f"AND (:date_to::date IS NULL OR {expression} <= :date_to::date)"
    )


_OPTIONAL_START = re.compile(r"\(:(\w+)::\w+ IS NULL OR ")


def without_filters(sql: str, absent: frozenset[str]) -> str:
    """`sql` with each optional filter on a parameter in `absent` replaced by `true`
    (the parameter will be null: the condition holds for every row)."""
    parts: list[str] = []
    at = 0
    for match in _OPTIONAL_START.finditer(sql):
        if match.start() < at or match.group(1) not in absent:
            continue
        depth, end = 0, match.start()
        while True:  # to the parenthesis that closes the condition (no literals inside)
            char = sql[end]
            depth += (char == "(") - (char == ")")
            end += 1
            if depth == 0:
                break
        parts += [sql[at : match.start()], "true"]
        at = end
    return "".join(parts) + sql[at:]


# child `c`, placement `p`, provider `prov`, commissioner `comm`
PLACEMENT_SELECT = (
    "p.id AS key, ARRAY[p.child_id] AS child_ids, p.child_id, p.id AS placement_id, "
    "c.legal_first_name, c.legal_last_name, c.year_group, p.status, p.primary_reason, "
    "p.provider_id, prov.name AS provider_name, p.commissioner_id, "
    "comm.name AS commissioner_name, comm.type AS commissioner_type, p.start_date, "
    "p.planned_end_date"
)
PLACEMENT_JOINS = (
    "JOIN children c ON c.id = p.child_id "
    "JOIN organisations prov ON prov.id = p.provider_id "
    "JOIN organisations comm ON comm.id = p.commissioner_id"
)
PAGE_BY_PLACEMENT = "p.id > :after::uuid ORDER BY p.id LIMIT :limit"

CHILD_COLUMNS = (
    Column("child_id", "The child (an id you may read)"),
    Column("legal_first_name", "Legal first name", "identity"),
    Column("legal_last_name", "Legal last name", "identity"),
    Column("year_group", "National curriculum year group", "identity"),
)
PLACEMENT_COLUMNS = (
    *CHILD_COLUMNS,
    Column("placement_id", "The placement (an id you may read)"),
    Column("status", "The placement's status", "placement"),
    Column("primary_reason", "Why the placement was made", "placement"),
    Column("provider_id", "The AP provider"),
    Column("provider_name", "The AP provider's name"),
    Column("commissioner_id", "Who commissioned the placement"),
    Column("commissioner_name", "The commissioner's name"),
    Column("commissioner_type", "local_authority, school or trust"),
    Column("start_date", "The day the placement started", "placement"),
    Column("planned_end_date", "The day it is planned to end", "placement"),
)
