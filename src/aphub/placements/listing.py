"""Pages of placements: the list endpoint's and the GraphQL connection's statement.

One statement per page, filtered by the sharing layer's placement visibility, in id
order from the cursor, the JSON built by PostgreSQL (repository.BODY).

A provider's list has its own shape. A provider sees its placements that are requested,
offered or active, and those that ended under 90 days ago; its years of older ones stay
in the table. Identifiers are time-ordered, so a walk of `(provider_id, id)` from the
start crossed every old placement before the first one it could show (at national scale
17,000 rows read for a page of 50). The page is instead the merge of two walks that each
start at the cursor and stop at the page's size: the current placements in id order
(a partial index holds only those), and the recently ended ones, found by end date (an
index on `(provider_id, actual_end_date, id)` for ended placements: a few thousand
entries, never the history), sorted by id and then checked one by one. Both walks keep
the full visibility condition, so the page holds exactly the rows the plain statement
would: the two branches split the provider's relation by status, and
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
        f"(SELECT p.id FROM placements p WHERE {where} AND p.status IN {CURRENT_PLACEMENT} "
        f"ORDER BY p.id {LIMIT})"
    )
    # the provider's ended placements it still sees, by the end-date index, in id order;
    # OFFSET 0 keeps that subquery whole, so the visibility check runs on the sorted ids
    # one at a time until the branch has its page, not on every recent end first
    ended = (
        "(SELECT p.id FROM (SELECT e.id FROM placements e "
        f"WHERE e.provider_id = {ORG} AND e.status = 'ended' AND e.actual_end_date > {TODAY} - 90 "
        "AND e.id > :after::uuid ORDER BY e.id OFFSET 0) recent "
        f"JOIN placements p ON p.id = recent.id WHERE {where} ORDER BY recent.id {LIMIT})"
    )
    return (
        f"SELECT {BODY} AS body, p.id FROM ({current} UNION ALL {ended}) page "
        f"JOIN {FROM} ON p.id = page.id ORDER BY page.id {LIMIT}"
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
