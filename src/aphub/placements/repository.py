"""Reading placements: JSON built by PostgreSQL from one statement, filtered by the
sharing layer's placement visibility (a hidden placement reads as absent); and the row a
transition locks, read by the same condition."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, Statement, WriteUnit
from aphub.events.log import OUTBOX_INSERT
from aphub.models import Organisation, Placement
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Policy, active_policy
from aphub.sharing.relationships import TODAY, involvement_categories_expression, rules_expression

_OUTCOMES = (
    "(SELECT coalesce(json_agg(json_build_object('id', o.id, 'description', o.description, "
    "'baseline', o.baseline, 'target', o.target, 'measure', o.measure, "
    "'target_date', o.target_date) ORDER BY o.created_at, o.id), '[]'::json) "
    "FROM intended_outcomes o WHERE o.placement_id = p.id)"
)
# json, not jsonb: built as text in the order written (jsonb would sort the keys), and
# about a quarter cheaper for PostgreSQL to build (a page of 50: 1.54 -> 1.18 ms)
BODY = (
    "json_build_object("
    "'id', p.id, 'version', p.version, 'status', p.status, 'child_id', p.child_id, "
    "'commissioner_id', p.commissioner_id, 'commissioner_type', comm.type, "
    "'provider_id', p.provider_id, 'home_school_id', p.home_school_id, "
    "'offer_id', p.offer_id, 'delivery_location_ids', to_json(p.delivery_location_ids), "
    "'legal_basis', p.legal_basis, 'primary_reason', p.primary_reason, "
    "'dual_registered', p.dual_registered, "
    "'attendance_code', CASE WHEN p.dual_registered THEN 'D' "
    "WHEN comm.type = 'local_authority' THEN 'K' ELSE 'B' END, "
    "'start_date', p.start_date, 'planned_end_date', p.planned_end_date, "
    "'actual_end_date', p.actual_end_date, 'hours_per_week', p.hours_per_week, "
    "'pattern', p.pattern, 'part_time_justification', p.part_time_justification, "
    "'part_time_parent_agreed_on', p.part_time_parent_agreed_on, "
    "'part_time_review_date', p.part_time_review_date, "
    f"'intended_outcomes', {_OUTCOMES}, 'exit_strategy', p.exit_strategy, "
    "'review_frequency_weeks', p.review_frequency_weeks, "
    "'next_review_date', p.next_review_date, 'funding', p.funding, "
    "'transport', p.transport, 'safeguarding_confirmed_on', p.safeguarding_confirmed_on, "
    "'ehcp_caseworker_notified_on', p.ehcp_caseworker_notified_on, "
    "'virtual_school_head_notified_on', p.virtual_school_head_notified_on, "
    "'end_reason', p.end_reason, 'destination', p.destination, "
    "'closing_note', p.closing_note, 'created_at', p.created_at, "
    "'updated_at', p.updated_at, 'flags', json_build_object("
    f"'past_planned_end', p.status = 'active' AND p.planned_end_date < {TODAY}, "
    f"'review_overdue', p.status = 'active' AND p.next_review_date < {TODAY}, "
    "'part_time_review_overdue', p.status = 'active' AND "
    f"p.part_time_review_date < {TODAY}))::text"
)
# the commissioner's type looked up by its key for each placement (OFFSET 0 keeps it a
# lookup: joined, PostgreSQL hashed every organisation to answer one placement)
FROM = (
    "placements p CROSS JOIN LATERAL (SELECT o.type FROM organisations o "
    "WHERE o.id = p.commissioner_id OFFSET 0) comm"
)

ORG = ":org::uuid"


@cache
def _one_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, ORG, policy)
    return (
        f"SELECT {BODY} AS body, p.version FROM {FROM} "
        f"WHERE p.id = :placement_id::uuid AND {visible}"
    )


@cache
def _visible_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, ORG, policy)
    return f"SELECT p.id FROM placements p WHERE p.id = :placement_id::uuid AND {visible}"


async def read_json(uow: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> str | None:
    """The placement as JSON text, or None when it does not exist for the caller."""
    found = await read_json_versioned(uow, principal, placement_id)
    return None if found is None else found[0]


async def read_json_versioned(
    uow: ReadUnit, principal: Principal, placement_id: uuid.UUID
) -> tuple[str, int] | None:
    """`read_json` with the placement's version (its ETag), read beside the JSON."""
    row = await uow.fetchrow(
        _one_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_id=placement_id,
    )
    return None if row is None else (str(row["body"]), int(row["version"]))


_CHANGED_SQL = f"SELECT {BODY} AS body FROM {FROM} WHERE p.id = :placement_id::uuid"


async def read_json_after_change(uow: WriteUnit, placement_id: uuid.UUID) -> str:
    """The placement as its actor left it. Only for the response to a change the caller
    was just authorised to make: declining or ending may end the caller's own access,
    and the answer to the action must still show what it did."""
    row = await uow.fetchrow(_CHANGED_SQL, placement_id=placement_id)
    return str(row["body"])


# --- the row a transition changes -----------------------------------------------------

JSON_COLUMNS = frozenset({"exit_strategy", "funding", "pattern"})
COLUMNS: tuple[str, ...] = tuple(Placement.__table__.columns.keys())


class LockedPlacement:
    """A placement row read under its row lock for one change, on the asyncpg connection
    (performance.md: the ORM's load, identity map and flush cost more than the change).

    Reads like the ORM's `Placement`; assigning a column records it, and the transition
    (`service.transition`) writes the recorded columns, the version and the event in one
    statement. JSON columns hold their Python values, as the ORM's do.
    """

    id: uuid.UUID
    child_id: uuid.UUID
    commissioner_id: uuid.UUID
    provider_id: uuid.UUID
    home_school_id: uuid.UUID | None
    offer_id: uuid.UUID | None
    delivery_location_ids: list[uuid.UUID]
    status: str
    legal_basis: str
    primary_reason: str
    dual_registered: bool
    start_date: date
    planned_end_date: date
    actual_end_date: date | None
    hours_per_week: Decimal | None
    pattern: dict[str, Any]
    part_time_justification: str | None
    part_time_parent_agreed_on: date | None
    part_time_review_date: date | None
    exit_strategy: dict[str, Any] | None
    review_frequency_weeks: int | None
    next_review_date: date | None
    funding: dict[str, Any] | None
    transport: str | None
    safeguarding_confirmed_on: date | None
    ehcp_caseworker_notified_on: date | None
    virtual_school_head_notified_on: date | None
    end_reason: str | None
    destination: str | None
    closing_note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    # the child's home LA, which acts for its resident as the commissioner does
    child_home_la_id: uuid.UUID | None
    # the placement as the API shows it, when the last transition was asked to build it
    json: str | None
    _changed: set[str]

    def __init__(self, row: Mapping[str, Any]) -> None:
        values = dict(row)  # straight into the instance: assignment records a change
        for name in JSON_COLUMNS:
            text = values[name]
            values[name] = None if text is None else orjson.loads(text)
        values["json"] = None
        values["_changed"] = set()
        vars(self).update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in COLUMNS:
            self._changed.add(name)

    def changed(self) -> dict[str, Any]:
        """The columns assigned since the row was read (or last written), with their values."""
        return {name: getattr(self, name) for name in sorted(self._changed)}

    def written(self, version: int, json: str | None) -> None:
        vars(self).update(version=version, json=json)
        self._changed.clear()


_SELECTED = ", ".join(f"p.{c}::text AS {c}" if c in JSON_COLUMNS else f"p.{c}" for c in COLUMNS)


@cache
def _lock_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, ORG, policy)
    return (
        f"SELECT {_SELECTED}, "
        "(SELECT c.home_la_id FROM children c WHERE c.id = p.child_id) AS child_home_la_id "
        f"FROM placements p WHERE p.id = :placement_id::uuid AND {visible} FOR UPDATE OF p"
    )


async def lock_visible(
    uow: WriteUnit, principal: Principal, placement_id: uuid.UUID
) -> LockedPlacement | None:
    """The placement, row-locked until the unit commits, or None when the caller may not
    see it. One statement: the visibility condition is the lock's WHERE, so a hidden row
    is never locked, and a row changed while this waited for the lock is judged again
    as it now is."""
    row = await uow.fetchrow(
        _lock_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_id=placement_id,
    )
    return None if row is None else LockedPlacement(row)


@cache
def change_statement(
    columns: tuple[str, ...], returning_json: bool, alongside: str | None
) -> Statement:
    """The statement of a transition, one round trip: the placement's new version
    (`:version`) and the values of `columns` (`:set_<column>`) for placement
    `:placement_id`, the event's outbox row (`OUTBOX_INSERT`'s parameters) and the
    `alongside` statement if any (its own parameters). It returns the JSON of the
    placement as the change left it (`body`, when asked), the `body` that `alongside`
    returned (`alongside`) and the `version`."""
    assignments = ["version = :version", "updated_at = now()"]
    assignments += [f"{name} = :set_{name}" for name in columns]
    parts = [("alongside", alongside)] if alongside else []
    parts += [
        (
            "p",
            f"UPDATE placements SET {', '.join(assignments)} WHERE id = :placement_id RETURNING *",
        ),
        ("logged", OUTBOX_INSERT),
    ]
    json = BODY if returning_json else "NULL::text"
    extra = "(SELECT body FROM alongside)" if alongside else "NULL::text"
    join = " JOIN organisations comm ON comm.id = p.commissioner_id" if returning_json else ""
    final = f"SELECT {json} AS body, {extra} AS alongside, p.version FROM p{join}"
    return Statement(tuple(parts), final)


@cache
def _visible_ids_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, ORG, policy)
    return f"SELECT p.id FROM placements p WHERE p.id = ANY(:placement_ids::uuid[]) AND {visible}"


async def visible_ids(
    uow: ReadUnit, principal: Principal, placement_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """The placements among these the caller may see."""
    rows = await uow.fetch(
        _visible_ids_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_ids=placement_ids,
    )
    return [row["id"] for row in rows]


@cache
def _of_children_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, ORG, policy)
    return (
        f"SELECT p.child_id AS owner, {BODY} AS body FROM {FROM} "
        f"WHERE p.child_id = ANY(:child_ids::uuid[]) AND {visible} ORDER BY p.child_id, p.id"
    )


async def of_children(
    uow: ReadUnit, principal: Principal, child_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The placements of each child the caller may see, as JSON, in one statement."""
    grouped: dict[uuid.UUID, list[str]] = {i: [] for i in child_ids}
    rows = await uow.fetch(
        _of_children_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        child_ids=list(set(child_ids)),
    )
    for row in rows:
        grouped[row["owner"]].append(str(row["body"]))
    return grouped


async def is_visible(uow: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> bool:
    row = await uow.fetchrow(
        _visible_sql(principal.organisation_type, active_policy()),
        org=principal.organisation_id,
        placement_id=placement_id,
    )
    return row is not None


# Nested lists of a page of placements: one statement per list for the whole page, each
# limited to placements the caller may see (the same condition as every placement read).
REVIEW_BODY = (
    "json_build_object('id', r.id, 'placement_id', r.placement_id, "
    "'scheduled_on', r.scheduled_on, 'held_on', r.held_on, 'attendees', to_json(r.attendees), "
    "'progress', r.progress, 'attendance_percent', r.attendance_percent, "
    "'child_views', r.child_views, 'family_views', r.family_views, 'decision', r.decision, "
    "'actions', r.actions, 'next_review_date', r.next_review_date, "
    "'proposed_end_date', r.proposed_end_date, 'extension_applied', r.extension_applied, "
    "'recorded_by_id', r.recorded_by_id, 'created_at', r.created_at)::text"
)
# a review is answered with what its INSERT returns: nothing is read twice
INSERT_REVIEW = (
    "INSERT INTO placement_reviews AS r (id, placement_id, scheduled_on, held_on, attendees, "
    "progress, attendance_percent, child_views, family_views, decision, actions, "
    "next_review_date, proposed_end_date, recorded_by_id) "
    "VALUES (:review_id, :placement_id, :scheduled_on, :held_on, :attendees, :progress, "
    ":attendance_percent, :child_views, :family_views, :decision, :actions, "
    ":review_next_review_date, :proposed_end_date, :recorded_by_id) "
    f"RETURNING {REVIEW_BODY} AS body"
)
EVENT_BODY = (
    "json_build_object('id', e.id, 'seq', e.seq, 'type', e.type, "
    "'occurred_at', e.occurred_at, 'actor', json_build_object("
    "'organisation_id', e.actor_organisation_id, 'client_id', e.actor_client_id), "
    "'version', e.subject_version, 'data', e.data)::text"
)


@cache
def _reviews_sql(organisation_type: str, policy: Policy) -> str:
    """Reviews with the caller's rules for the child, to cut the child's and the family's
    views (category `voice`) for a caller that may not read them."""
    visible = placement_visible(organisation_type, ORG, policy)
    return (
        f"SELECT r.placement_id AS owner, {REVIEW_BODY} AS body, "
        f"{rules_expression(organisation_type, ORG)} AS rules, "
        f"{involvement_categories_expression(organisation_type, ORG)} AS inv_categories "
        "FROM placement_reviews r JOIN placements p ON p.id = r.placement_id "
        "JOIN children c ON c.id = p.child_id "
        f"WHERE r.placement_id = ANY(:placement_ids::uuid[]) AND {visible} "
        "ORDER BY r.placement_id, r.held_on, r.id"
    )


VOICE_FIELDS = ("child_views", "family_views")


@cache
def _history_sql(organisation_type: str, policy: Policy) -> str:
    visible = placement_visible(organisation_type, ORG, policy)
    return (
        f"SELECT e.subject_id AS owner, {EVENT_BODY} AS body FROM events e "
        "JOIN placements p ON p.id = e.subject_id "
        "WHERE e.subject_type = 'placement' AND e.subject_id = ANY(:placement_ids::uuid[]) "
        f"AND {visible} ORDER BY e.subject_id, e.seq"
    )


async def _grouped(
    uow: ReadUnit, sql: str, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in placement_ids}
    if not placement_ids:
        return grouped
    rows = await uow.fetch(
        sql, org=principal.organisation_id, placement_ids=list(set(placement_ids))
    )
    for row in rows:
        grouped[row["owner"]].append(orjson.loads(row["body"]))
    return grouped


async def reviews_of(
    uow: ReadUnit, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Reviews of each placement, by date held; none for a placement the caller cannot see,
    and without the views of the child and family unless the caller reads `voice`."""
    policy = active_policy()
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in placement_ids}
    if not placement_ids:
        return grouped
    rows = await uow.fetch(
        _reviews_sql(principal.organisation_type, policy),
        org=principal.organisation_id,
        placement_ids=list(set(placement_ids)),
    )
    for row in rows:
        review = orjson.loads(row["body"])
        if not policy.decide(row["rules"] or (), row["inv_categories"]).can_read("voice"):
            for name in VOICE_FIELDS:
                review.pop(name, None)
        grouped[row["owner"]].append(review)
    return grouped


async def history_of(
    uow: ReadUnit, principal: Principal, placement_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Events of each placement in order, with actor and time; none when it is hidden."""
    sql = _history_sql(principal.organisation_type, active_policy())
    return await _grouped(uow, sql, principal, placement_ids)


async def organisations_by_id(
    uow: ReadUnit, organisation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Organisation]:
    """The organisations a page of placements names (the register is public to callers)."""
    rows = await uow.session.scalars(
        select(Organisation).where(Organisation.id.in_(set(organisation_ids)))
    )
    return {o.id: o for o in rows}
