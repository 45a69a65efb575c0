"""Placements: requesting, varying, and the shared machinery of every transition.

Each change locks the placement row, checks who may act and in which state, bumps the
version and records exactly one event with that version (unique per subject and
version in the event log), all in the caller's transaction.

The machinery runs on statements alone (`WriteUnit`: the asyncpg connection beneath a
unit of work's session, or a `WriteUnit`'s own; performance.md): the lock is one
statement that also decides visibility, and the change, its version, its event and the
placement's new JSON are one more, where the ORM took a visibility query, a locking
load, a flush and a read-back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select

from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from aphub.events.log import OUTBOX_INSERT, Actor, outbox_values
from aphub.models import IntendedOutcome, Organisation, Placement
from aphub.placements import repository
from aphub.placements.repository import JSON_COLUMNS, LockedPlacement
from aphub.placements.schemas import PlacementCreate, PlacementPlan, PlacementVary
from aphub.sharing import gate

COMMISSIONER_TYPES = ("local_authority", "school", "trust")


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.organisation_id, principal.client_id)


async def locked(
    uow: WriteUnit, principal: Principal, placement_id: uuid.UUID, if_match: int | None
) -> LockedPlacement:
    """The placement, row-locked, if the caller may see it (404 otherwise)."""
    placement = await repository.lock_visible(uow, principal, placement_id)
    if placement is None:
        raise NotFound("No such placement, or not visible to you")
    if if_match is not None and if_match != placement.version:
        raise PreconditionFailed(f"The placement is at version {placement.version}, not {if_match}")
    return placement


async def acts_as_commissioner(uow: WriteUnit, principal: Principal, p: LockedPlacement) -> bool:
    if principal.organisation_id == p.commissioner_id:
        return True
    if principal.organisation_type != "local_authority":
        return False
    # the home LA acts for its residents (read with the lock: no query of its own)
    return p.child_home_la_id == principal.organisation_id


async def require_commissioner(uow: WriteUnit, principal: Principal, p: LockedPlacement) -> None:
    if not await acts_as_commissioner(uow, principal, p):
        raise Forbidden("Only the commissioner (or the child's home LA) may do this")


def require_provider(principal: Principal, p: LockedPlacement) -> None:
    if principal.organisation_id != p.provider_id:
        raise Forbidden("Only the placement's provider may do this")


def require_status(p: LockedPlacement, action: str, *allowed: str) -> None:
    if p.status not in allowed:
        raise Conflict(
            f"Cannot {action} a placement that is {p.status} (only when {' or '.join(allowed)})",
            extra={"current_status": p.status},
        )


def _event(
    principal: Principal,
    placement_id: uuid.UUID,
    child_id: uuid.UUID,
    version: int,
    event_type: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    return outbox_values(
        type=event_type,
        subject_type="placement",
        subject_id=placement_id,
        subject_version=version,
        child_id=child_id,
        actor=actor_of(principal),
        data=data,
    )


def _column_value(name: str, value: Any) -> Any:
    if name in JSON_COLUMNS and value is not None:
        return orjson.dumps(value).decode()  # JSONB travels as text
    return value


@dataclass(frozen=True, slots=True)
class Alongside:
    """A row a transition writes besides the placement's (a review, say), in the
    transition's own statement: `sql` is an INSERT or UPDATE returning one text column
    named `body`, with parameters `params` (named apart from the transition's)."""

    sql: str
    params: dict[str, Any]


async def transition(
    uow: WriteUnit,
    principal: Principal,
    p: LockedPlacement,
    event_type: str,
    data: dict[str, Any] | None = None,
    *,
    returning_json: bool = True,
    alongside: Alongside | None = None,
    answers: int | None = None,
) -> str | None:
    """Bump the version and write the change with the one event of this change.

    One statement: the UPDATE of the columns the service assigned, the outbox row, the
    `alongside` row if any and, unless the caller answers with something else, the
    placement's JSON as the change left it (`p.json`). It runs under the row lock
    `locked` took, so the event's place in the outbox is its place in the placement's
    history. When the statement's JSON is the request's answer, with status `answers`
    (the placement's, with its ETag, or else what `alongside` returned), the unit keeps it
    under the request's Idempotency-Key in the same statement. Returns what `alongside`
    returned.
    """
    version = p.version + 1
    changes = {name: value for name, value in p.changed().items() if name != "version"}
    event = _event(
        principal, p.id, p.child_id, version, event_type, {"status": p.status, **(data or {})}
    )
    params = {f"set_{name}": _column_value(name, value) for name, value in changes.items()}
    statement = repository.change_statement(
        tuple(changes), returning_json, alongside.sql if alongside else None
    )
    params.update(placement_id=p.id, version=version, **event)
    if alongside is not None:
        params.update(alongside.params)
    if answers is None:
        row = await uow.fetchrow(statement.sql, **params)
    else:
        body = "body" if returning_json else "alongside"
        row = await uow.answer(statement, status=answers, body=body, etag=returning_json, **params)
    uow.appended_events()
    p.written(version, row["body"])
    returned: str | None = row["alongside"]
    return returned


async def _replace_outcomes(uow: WriteUnit, placement_id: uuid.UUID, plan: PlacementPlan) -> None:
    await uow.session.execute(
        delete(IntendedOutcome).where(IntendedOutcome.placement_id == placement_id)
    )
    for outcome in plan.intended_outcomes:
        uow.session.add(IntendedOutcome(placement_id=placement_id, **outcome.model_dump()))


def _plan_values(plan: PlacementPlan, fields: set[str]) -> dict[str, Any]:
    """Column values for the plan fields sent: JSON columns in their JSON form."""
    fields = fields - {"intended_outcomes"}
    values = plan.model_dump(include=fields - JSON_COLUMNS)
    values.update(plan.model_dump(mode="json", include=fields & JSON_COLUMNS))
    if "pattern" in values:
        values["pattern"] = {"days": values["pattern"]}
    return values


async def request(uow: WriteUnit, principal: Principal, data: PlacementCreate) -> uuid.UUID:
    if principal.organisation_type not in COMMISSIONER_TYPES:
        raise Forbidden("Only local authorities, schools and trusts commission placements")
    decision = await gate.decide(uow, principal, data.child_id)
    gate.require_category_write(decision, "placement")
    orgs = {
        o.id: o
        for o in await uow.session.scalars(
            select(Organisation).where(
                Organisation.id.in_([data.provider_id, data.home_school_id or data.provider_id])
            )
        )
    }
    provider = orgs.get(data.provider_id)
    if provider is None or provider.type != "provider":
        raise Invalid.field("provider_id", "provider_id must name an AP provider")
    if data.home_school_id and (
        data.home_school_id not in orgs or orgs[data.home_school_id].type != "school"
    ):
        raise Invalid.field("home_school_id", "home_school_id must name a school")
    fields = set(data.model_fields_set) | {"delivery_location_ids"}
    values = _plan_values(data, fields & set(PlacementPlan.model_fields))
    placement = Placement(
        child_id=data.child_id,
        commissioner_id=principal.organisation_id,
        provider_id=data.provider_id,
        home_school_id=data.home_school_id,
        status="requested",
        legal_basis=data.legal_basis.value,
        primary_reason=data.primary_reason.value,
        dual_registered=data.dual_registered,
        start_date=data.start_date,
        planned_end_date=data.planned_end_date,
        version=1,
        **values,
    )
    uow.session.add(placement)
    await uow.session.flush()
    await _replace_outcomes(uow, placement.id, data)
    # version 1 and its event; written now, as every later transition writes its own,
    # so the outbox holds the placement's events in the order they happened
    event = _event(
        principal,
        placement.id,
        placement.child_id,
        1,
        "placement.requested",
        {
            "status": "requested",
            "provider_id": str(data.provider_id),
            "commissioner_id": str(principal.organisation_id),
            "legal_basis": data.legal_basis.value,
            "primary_reason": data.primary_reason.value,
            "start_date": data.start_date.isoformat(),
            "planned_end_date": data.planned_end_date.isoformat(),
        },
    )
    await uow.execute(OUTBOX_INSERT, **event)  # after the ORM's pending rows are flushed
    uow.appended_events()
    return placement.id


async def vary(
    uow: WriteUnit,
    principal: Principal,
    placement_id: uuid.UUID,
    data: PlacementVary,
    if_match: int | None,
) -> LockedPlacement:
    p = await locked(uow, principal, placement_id, if_match)
    await require_commissioner(uow, principal, p)
    require_status(p, "vary", "requested", "offered", "active")
    fields = set(data.model_fields_set)
    if not fields:
        raise Invalid.field("body", "name at least one field to change")
    for name, value in _plan_values(data, fields).items():
        setattr(p, name, value)
    if "intended_outcomes" in fields:
        await _replace_outcomes(uow, p.id, data)
    await transition(uow, principal, p, "placement.varied", {"fields": sorted(fields)})
    return p
