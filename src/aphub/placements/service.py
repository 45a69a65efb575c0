"""Placements: requesting, varying, and the shared machinery of every transition.

Each change locks the placement row, checks who may act and in which state, bumps the
version and records exactly one event with that version (unique per subject and
version in the event log), all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select

from aphub.auth.principal import Principal
from aphub.db import UnitOfWork
from aphub.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from aphub.events.log import Actor, record
from aphub.models import Child, IntendedOutcome, Organisation, Placement
from aphub.placements import repository
from aphub.placements.schemas import PlacementCreate, PlacementPlan, PlacementVary
from aphub.sharing import gate

COMMISSIONER_TYPES = ("local_authority", "school", "trust")


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.organisation_id, principal.client_id)


async def locked(
    uow: UnitOfWork, principal: Principal, placement_id: uuid.UUID, if_match: int | None
) -> Placement:
    """The placement, row-locked, if the caller may see it (404 otherwise)."""
    if not await repository.is_visible(uow, principal, placement_id):
        raise NotFound("No such placement, or not visible to you")
    placement = await uow.session.get(
        Placement, placement_id, with_for_update=True, populate_existing=True
    )
    if placement is None:
        raise NotFound("No such placement, or not visible to you")
    if if_match is not None and if_match != placement.version:
        raise PreconditionFailed(f"The placement is at version {placement.version}, not {if_match}")
    return placement


async def acts_as_commissioner(uow: UnitOfWork, principal: Principal, p: Placement) -> bool:
    if principal.organisation_id == p.commissioner_id:
        return True
    if principal.organisation_type != "local_authority":
        return False
    home = await uow.session.scalar(select(Child.home_la_id).where(Child.id == p.child_id))
    return home == principal.organisation_id  # the home LA acts for its residents


async def require_commissioner(uow: UnitOfWork, principal: Principal, p: Placement) -> None:
    if not await acts_as_commissioner(uow, principal, p):
        raise Forbidden("Only the commissioner (or the child's home LA) may do this")


def require_provider(principal: Principal, p: Placement) -> None:
    if principal.organisation_id != p.provider_id:
        raise Forbidden("Only the placement's provider may do this")


def require_status(p: Placement, action: str, *allowed: str) -> None:
    if p.status not in allowed:
        raise Conflict(
            f"Cannot {action} a placement that is {p.status} (only when {' or '.join(allowed)})",
            extra={"status": p.status},
        )


def transition(
    uow: UnitOfWork,
    principal: Principal,
    p: Placement,
    event_type: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Bump the version and record the one event of this change."""
    p.version += 1
    record(
        uow,
        type=event_type,
        subject_type="placement",
        subject_id=p.id,
        subject_version=p.version,
        child_id=p.child_id,
        actor=actor_of(principal),
        data={"status": p.status, **(data or {})},
    )


async def _replace_outcomes(uow: UnitOfWork, p: Placement, plan: PlacementPlan) -> None:
    await uow.session.execute(delete(IntendedOutcome).where(IntendedOutcome.placement_id == p.id))
    for outcome in plan.intended_outcomes:
        uow.session.add(IntendedOutcome(placement_id=p.id, **outcome.model_dump()))


JSON_COLUMNS = frozenset({"exit_strategy", "funding", "pattern"})


def _plan_values(plan: PlacementPlan, fields: set[str]) -> dict[str, Any]:
    """Column values for the plan fields sent: JSON columns in their JSON form."""
    fields = fields - {"intended_outcomes"}
    values = plan.model_dump(include=fields - JSON_COLUMNS)
    values.update(plan.model_dump(mode="json", include=fields & JSON_COLUMNS))
    if "pattern" in values:
        values["pattern"] = {"days": values["pattern"]}
    return values


async def request(uow: UnitOfWork, principal: Principal, data: PlacementCreate) -> uuid.UUID:
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
        version=0,
        **values,
    )
    uow.session.add(placement)
    await uow.session.flush()
    await _replace_outcomes(uow, placement, data)
    transition(
        uow,
        principal,
        placement,
        "placement.requested",
        {
            "provider_id": str(data.provider_id),
            "commissioner_id": str(principal.organisation_id),
            "legal_basis": data.legal_basis.value,
            "primary_reason": data.primary_reason.value,
            "start_date": data.start_date.isoformat(),
            "planned_end_date": data.planned_end_date.isoformat(),
        },
    )
    await uow.session.flush()
    return placement.id


async def vary(
    uow: UnitOfWork,
    principal: Principal,
    placement_id: uuid.UUID,
    data: PlacementVary,
    if_match: int | None,
) -> Placement:
    p = await locked(uow, principal, placement_id, if_match)
    await require_commissioner(uow, principal, p)
    require_status(p, "vary", "requested", "offered", "active")
    fields = set(data.model_fields_set)
    if not fields:
        raise Invalid.field("body", "name at least one field to change")
    for name, value in _plan_values(data, fields).items():
        setattr(p, name, value)
    if "intended_outcomes" in fields:
        await _replace_outcomes(uow, p, data)
    transition(uow, principal, p, "placement.varied", {"fields": sorted(fields)})
    await uow.session.flush()
    return p
