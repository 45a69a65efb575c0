"""Reading placements: JSON built by PostgreSQL from one statement, filtered by the
sharing layer's placement visibility (a hidden placement reads as absent)."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import orjson
from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.db import Reads, UnitOfWork
from aphub.models import Organisation
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


async def read_json(uow: Reads, principal: Principal, placement_id: uuid.UUID) -> str | None:
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


# Nested lists of a page of placements: one statement per list for the whole page, each
# limited to placements the caller may see (the same condition as every placement read).
REVIEW_BODY = (
    "jsonb_build_object('id', r.id, 'placement_id', r.placement_id, "
    "'scheduled_on', r.scheduled_on, 'held_on', r.held_on, 'attendees', to_jsonb(r.attendees), "
    "'progress', r.progress, 'attendance_percent', r.attendance_percent, "
    "'child_views', r.child_views, 'family_views', r.family_views, 'decision', r.decision, "
    "'actions', r.actions, 'next_review_date', r.next_review_date, "
    "'proposed_end_date', r.proposed_end_date, 'extension_applied', r.extension_applied, "
    "'recorded_by_id', r.recorded_by_id, 'created_at', r.created_at)::text"
)
EVENT_BODY = (
    "jsonb_build_object('id', e.id, 'seq', e.seq, 'type', e.type, "
    "'occurred_at', e.occurred_at, 'actor', jsonb_build_object("
    "'organisation_id', e.actor_organisation_id, 'client_id', e.actor_client_id), "
    "'version', e.subject_version, 'data', e.data)::text"
)


@cache
def _reviews_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, "$1::uuid", policy)
    return (
        f"SELECT r.placement_id AS owner, {REVIEW_BODY} AS body FROM placement_reviews r "
        "JOIN placements p ON p.id = r.placement_id "
        f"WHERE r.placement_id = ANY($2::uuid[]) AND {visible} "
        "ORDER BY r.placement_id, r.held_on, r.id"
    )


@cache
def _history_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, "$1::uuid", policy)
    return (
        f"SELECT e.subject_id AS owner, {EVENT_BODY} AS body FROM events e "
        "JOIN placements p ON p.id = e.subject_id "
        f"WHERE e.subject_type = 'placement' AND e.subject_id = ANY($2::uuid[]) AND {visible} "
        "ORDER BY e.subject_id, e.seq"
    )


async def _grouped(
    uow: UnitOfWork, sql: str, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in placement_ids}
    if not placement_ids:
        return grouped
    for row in await uow.fetch(sql, principal.organisation_id, list(set(placement_ids))):
        grouped[row["owner"]].append(orjson.loads(row["body"]))
    return grouped


async def reviews_of(
    uow: UnitOfWork, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Reviews of each placement, by date held; none for a placement the caller cannot see."""
    sql = _reviews_sql(principal.organisation_type, active_policy())
    return await _grouped(uow, sql, principal, placement_ids)


async def history_of(
    uow: UnitOfWork, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Events of each placement in order, with actor and time; none when it is hidden."""
    sql = _history_sql(principal.organisation_type, active_policy())
    return await _grouped(uow, sql, principal, placement_ids)


async def organisations_by_id(
    uow: UnitOfWork, organisation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Organisation]:
    """The organisations a page of placements names (the register is public to callers)."""
    rows = await uow.session.scalars(
        select(Organisation).where(Organisation.id.in_(set(organisation_ids)))
    )
    return {o.id: o for o in rows}
