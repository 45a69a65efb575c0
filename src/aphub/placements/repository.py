"""Reading placements: JSON built by PostgreSQL from one statement, filtered by the
sharing layer's placement visibility (a hidden placement reads as absent)."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import UnitOfWork
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy
from aphub.sharing.relationships import TODAY

_OUTCOMES = (
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id, 'description', o.description, "
    "'baseline', o.baseline, 'target', o.target, 'measure', o.measure, "
    "'target_date', o.target_date) ORDER BY o.created_at, o.id), '[]'::jsonb) "
    "FROM intended_outcomes o WHERE o.placement_id = p.id)"
)
BODY = (
    "jsonb_build_object("
    "'id', p.id, 'version', p.version, 'status', p.status, 'child_id', p.child_id, "
    "'commissioner_id', p.commissioner_id, 'commissioner_type', comm.type, "
    "'provider_id', p.provider_id, 'home_school_id', p.home_school_id, "
    "'offer_id', p.offer_id, 'delivery_location_ids', to_jsonb(p.delivery_location_ids), "
    "'legal_basis', p.legal_basis, 'primary_reason', p.primary_reason, "
    "'dual_registered', p.dual_registered, "
    "'attendance_code', CASE WHEN p.dual_registered THEN 'D' "
    "WHEN comm.type = 'local_authority' THEN 'K' ELSE 'B' END, "
    "'start_date', p.start_date, 'planned_end_date', p.planned_end_date, "
    "'actual_end_date', p.actual_end_date, 'hours_per_week', p.hours_per_week, "
    "'pattern', p.pattern, 'part_time_justification', p.part_time_justification, "
    f"'intended_outcomes', {_OUTCOMES}, 'exit_strategy', p.exit_strategy, "
    "'review_frequency_weeks', p.review_frequency_weeks, "
    "'next_review_date', p.next_review_date, 'funding', p.funding, "
    "'transport', p.transport, 'safeguarding_confirmed_on', p.safeguarding_confirmed_on, "
    "'ehcp_caseworker_notified_on', p.ehcp_caseworker_notified_on, "
    "'virtual_school_head_notified_on', p.virtual_school_head_notified_on, "
    "'end_reason', p.end_reason, 'destination', p.destination, "
    "'closing_note', p.closing_note, 'created_at', p.created_at, "
    "'updated_at', p.updated_at, 'flags', jsonb_build_object("
    f"'past_planned_end', p.status = 'active' AND p.planned_end_date < {TODAY}, "
    f"'review_overdue', p.status = 'active' AND p.next_review_date < {TODAY}))::text"
)
FROM = "placements p JOIN organisations comm ON comm.id = p.commissioner_id"

FILTERS = {
    "status": "p.status = ${n}",
    "child_id": "p.child_id = ${n}::uuid",
    "provider_id": "p.provider_id = ${n}::uuid",
    "commissioner_id": "p.commissioner_id = ${n}::uuid",
    "updated_since": "p.updated_at >= ${n}",
}


@cache
def _one_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, "$1::uuid", policy)
    return f"SELECT {BODY} AS body FROM {FROM} WHERE p.id = $2::uuid AND {visible}"


@cache
def _page_sql(organisation_type: str, policy: Policy, filters: tuple[str, ...]) -> str:
    visible = placement_visible(organisation_type, "$1::uuid", policy)
    where = [visible, "p.id > $2::uuid"]
    where += [FILTERS[name].format(n=i + 4) for i, name in enumerate(filters)]
    return (
        f"SELECT {BODY} AS body, p.id FROM {FROM} WHERE {' AND '.join(where)} "
        "ORDER BY p.id LIMIT $3::int"
    )


@cache
def _visible_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, "$1::uuid", policy)
    return f"SELECT p.id FROM placements p WHERE p.id = $2::uuid AND {visible}"


async def read_json(uow: UnitOfWork, principal: Principal, placement_id: uuid.UUID) -> str | None:
    """The placement as JSON text, or None when it does not exist for the caller."""
    row = await uow.fetchrow(
        _one_sql(principal.organisation_type, active_policy()),
        principal.organisation_id,
        placement_id,
    )
    return None if row is None else str(row["body"])


_CHANGED_SQL = f"SELECT {BODY} AS body FROM {FROM} WHERE p.id = $1::uuid"


async def read_json_after_change(uow: UnitOfWork, placement_id: uuid.UUID) -> str:
    """The placement as its actor left it. Only for the response to a change the caller
    was just authorised to make: declining or ending may end the caller's own access,
    and the answer to the action must still show what it did."""
    row = await uow.fetchrow(_CHANGED_SQL, placement_id)
    return str(row["body"])


async def is_visible(uow: UnitOfWork, principal: Principal, placement_id: uuid.UUID) -> bool:
    row = await uow.fetchrow(
        _visible_sql(principal.organisation_type, active_policy()),
        principal.organisation_id,
        placement_id,
    )
    return row is not None


async def read_page_json(
    uow: UnitOfWork,
    principal: Principal,
    *,
    after: uuid.UUID | None,
    limit: int,
    filters: dict[str, Any],
) -> tuple[list[str], uuid.UUID | None]:
    names = tuple(sorted(k for k, v in filters.items() if v is not None))
    values: list[Any] = [filters[n] for n in names]
    rows = await uow.fetch(
        _page_sql(principal.organisation_type, active_policy(), names),
        principal.organisation_id,
        after or uuid.UUID(int=0),
        limit + 1,
        *values,
    )
    bodies = [str(r["body"]) for r in rows[:limit]]
    last = rows[limit - 1]["id"] if len(rows) > limit else None
    return bodies, last
