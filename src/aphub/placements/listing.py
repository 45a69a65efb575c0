"""Pages of placements: the list endpoint's and the GraphQL connection's statement.

One statement per page, filtered by the sharing layer's placement visibility, in id
order from the cursor, the JSON built by PostgreSQL (repository.BODY).

A provider's list has its own shape. A provider sees its placements that are requested,
offered or active, and those that ended under 90 days ago; its years of older ones stay
in the table. Identifiers are time-ordered, so a walk of `(provider_id, id)` from the
start crossed every old placement before the first one it could show (at national scale
17,000 rows read for a page of 50). The page is instead the merge of two walks that each
start at the cursor and stop at the page's size: the current placements in id order
(a partial index holds only those), and the recently ended ones, from an index on
`(provider_id, actual_end_date, id)` for ended placements: one short walk per day of the
90, each in id order from the cursor, never the history. When the current placements
fill the page, the ended walks stop at the last of them, so a page reads about its own
size whatever the provider's size. Every walk keeps the full visibility condition, so
the page holds exactly the rows the plain statement would: the branches split the
provider's relation by status and end date, and
`test_provider_page_is_every_visible_placement` fails if that relation ever admits a
placement outside both.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.placements.repository import BODY, FROM, ORG
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy
from aphub.sharing.relationships import CURRENT_PLACEMENT, TODAY

FILTERS = {
    "status": "p.status = :status",
    "child_id": "p.child_id = :child_id::uuid",
    "provider_id": "p.provider_id = :provider_id::uuid",
    "commissioner_id": "p.commissioner_id = :commissioner_id::uuid",
    "updated_since": "p.updated_at >= :updated_since",
}
LIMIT = "LIMIT :limit::int"
_LAST_ID = "'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid"


def _where(organisation_type: str, policy: Policy, filters: tuple[str, ...]) -> str:
    visible = placement_visible(organisation_type, ORG, policy)
    return " AND ".join([visible, "p.id > :after::uuid", *(FILTERS[name] for name in filters)])


@cache
def page_sql(organisation_type: str, policy: Policy, filters: tuple[str, ...]) -> str:
    """The statement of one page for this kind of caller, with these filters."""
    if organisation_type == "provider":
        return _provider_page_sql(policy, filters)
    where = _where(organisation_type, policy, filters)
    return f"SELECT {BODY} AS body, p.id FROM {FROM} WHERE {where} ORDER BY p.id {LIMIT}"


def _provider_page_sql(policy: Policy, filters: tuple[str, ...]) -> str:
    where = _where("provider", policy, filters)
    current = (
        f"SELECT p.id FROM placements p WHERE {where} AND p.status IN {CURRENT_PLACEMENT} "
        f"ORDER BY p.id {LIMIT}"
    )
    # When the current placements fill the page, no ended one after the last of them can
    # be on it: `edge` is that bound (the largest id when they do not fill it).
    edge = (
        "SELECT CASE WHEN (SELECT count(*) FROM cur) < :limit::int THEN " + _LAST_ID + " "
        "ELSE (SELECT c.id FROM cur c ORDER BY c.id DESC LIMIT 1) END AS bound"
    )
    # The ended placements the provider still sees, one walk of the end-date index per day
    # of the 90 (and one for an end date after today): within a day the index is in id
    # order, so each walk reads from the cursor to the bound and stops at the page's size,
    # with the visibility check and the filters on each row it reads.
    ended_when = (
        f"SELECT p.id FROM placements p WHERE p.provider_id = {ORG} AND p.status = 'ended' "
        "AND {when} AND p.id < (SELECT bound FROM edge) "
        f"AND {where} ORDER BY p.id {LIMIT}"
    )
    by_day = ended_when.replace("{when}", "p.actual_end_date = d.day::date")
    # (rare: no order or limit, so that it stays a walk of the end-date index)
    later = ended_when.replace("{when}", f"p.actual_end_date > {TODAY}").replace(
        f" ORDER BY p.id {LIMIT}", ""
    )
    ended = (
        f"SELECT x.id FROM generate_series({TODAY} - 89, {TODAY}, interval '1 day') d(day) "
        f"CROSS JOIN LATERAL ({by_day}) x UNION ALL ({later})"
    )
    # each row of the page looked up by id (a lateral join: never a walk of the table)
    return (
        f"WITH cur AS MATERIALIZED ({current}), edge AS MATERIALIZED ({edge}), "
        f"page AS MATERIALIZED (SELECT id FROM cur UNION ALL {ended} ORDER BY id {LIMIT}) "
        f"SELECT b.body, page.id FROM page CROSS JOIN LATERAL "
        f"(SELECT {BODY} AS body FROM {FROM} WHERE p.id = page.id) b ORDER BY page.id"
    )


async def read_page_json(
    uow: ReadUnit,
    principal: Principal,
    *,
    after: uuid.UUID | None,
    limit: int,
    filters: dict[str, Any],
) -> tuple[list[str], uuid.UUID | None]:
    """The placements after `after` the caller may see, as JSON, and the cursor of the
    next page (None on the last)."""
    names = tuple(sorted(k for k, v in filters.items() if v is not None))
    rows = await uow.fetch(
        page_sql(principal.organisation_type, active_policy(), names),
        org=principal.organisation_id,
        after=after or uuid.UUID(int=0),
        limit=limit + 1,
        **{name: filters[name] for name in names},
    )
    bodies = [str(r["body"]) for r in rows[:limit]]
    last = rows[limit - 1]["id"] if len(rows) > limit else None
    return bodies, last
