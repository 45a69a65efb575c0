"""Child records: creation with duplicate detection, updates, enrolments.

Reads go through `aphub.sharing.gate`; writes ask it for the caller's decision first,
so a hidden child is 404 and a visible one with fields outside the caller's write
grant is 403 naming them.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, literal, or_, select

from aphub.auth.principal import Principal
from aphub.children.schemas import ChildCreate, ChildUpdate, EnrolmentIn
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from aphub.events.log import Actor, record
from aphub.models import Child, Enrolment, Organisation
from aphub.sharing import gate

CREATORS = ("local_authority", "school", "trust")


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.organisation_id, principal.client_id)


async def _org_types(uow: WriteUnit, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
    if not ids:
        return {}
    rows = await uow.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    return {o.id: o for o in rows}


async def _check_references(uow: WriteUnit, data: ChildCreate) -> dict[uuid.UUID, Organisation]:
    ids = {data.home_la_id, *(e.school_id for e in data.enrolments)}
    if data.looked_after_la_id:
        ids.add(data.looked_after_la_id)
    orgs = await _org_types(uow, ids)
    home = orgs.get(data.home_la_id)
    if home is None or home.type != "local_authority":
        raise Invalid.field("home_la_id", "home_la_id must name a local authority")
    if data.looked_after_la_id:
        responsible = orgs.get(data.looked_after_la_id)
        if responsible is None or responsible.type != "local_authority":
            raise Invalid.field(
                "looked_after_la_id", "looked_after_la_id must name a local authority"
            )
    for i, enrolment in enumerate(data.enrolments):
        school = orgs.get(enrolment.school_id)
        if school is None or school.type != "school":
            raise Invalid.field(f"enrolments.{i}.school_id", "school_id must name a school")
    return orgs


def _creator_keeps_sight(
    principal: Principal, data: ChildCreate, orgs: dict[uuid.UUID, Organisation]
) -> None:
    """A creator must be able to see what it creates: no orphan records."""
    today = date.today()
    current = [
        e
        for e in data.enrolments
        if e.start_date <= today and (e.end_date is None or e.end_date >= today)
    ]
    org = principal.organisation_id
    if principal.organisation_type == "local_authority" and data.home_la_id != org:
        raise Invalid.field("home_la_id", "a local authority records its own residents")
    if principal.organisation_type == "school" and not any(e.school_id == org for e in current):
        raise Invalid.field("enrolments", "a school records children on its own roll")
    if principal.organisation_type == "trust" and not any(
        orgs[e.school_id].trust_id == org for e in current
    ):
        raise Invalid.field("enrolments", "a trust records children on the roll of its schools")


async def _existing_duplicate(uow: WriteUnit, principal: Principal, data: ChildCreate) -> None:
    """409 if the child is already recorded. The existing id is given only when the caller
    may see that child; otherwise the hub says no more than that the identifier is taken."""
    same_person = (
        (func.lower(Child.legal_first_name) == data.legal_first_name.lower())
        & (func.lower(Child.legal_last_name) == data.legal_last_name.lower())
        & (Child.date_of_birth == data.date_of_birth)
        & (Child.home_la_id == data.home_la_id)
    )
    conditions: list[ColumnElement[bool]] = [same_person]
    if data.upn:
        conditions += [Child.upn == data.upn, literal(data.upn) == func.any(Child.former_upns)]
    if data.nhs_number:
        conditions.append(Child.nhs_number == data.nhs_number)
    matches = list(await uow.session.scalars(select(Child.id).where(or_(*conditions)).limit(5)))
    for match in matches:
        try:
            await gate.decide(uow, principal, match)
        except NotFound:
            continue
        raise Conflict("This child is already recorded", extra={"existing_id": str(match)})
    if data.upn and await uow.session.scalar(select(Child.id).where(Child.upn == data.upn)):
        raise Conflict(
            "A child with this UPN is already recorded by another organisation; "
            "ask the child's home local authority"
        )


async def create_child(uow: WriteUnit, principal: Principal, data: ChildCreate) -> uuid.UUID:
    if principal.organisation_type not in CREATORS:
        raise Forbidden("Only local authorities, schools and trusts record children")
    orgs = await _check_references(uow, data)
    _creator_keeps_sight(principal, data, orgs)
    await _existing_duplicate(uow, principal, data)
    values = data.model_dump(exclude={"enrolments"}, exclude_none=True)
    child = Child(**values, created_by_id=principal.organisation_id)
    uow.session.add(child)
    await uow.session.flush()
    for enrolment in data.enrolments:
        uow.session.add(Enrolment(child_id=child.id, **enrolment.model_dump()))
    await uow.session.flush()
    record(
        uow,
        type="child.created",
        subject_type="child",
        subject_id=child.id,
        subject_version=1,
        child_id=child.id,
        actor=actor_of(principal),
        data={"home_la_id": str(data.home_la_id), "enrolments": len(data.enrolments)},
    )
    return child.id


async def _check_update_references(uow: WriteUnit, child: Child, changes: dict[str, Any]) -> None:
    """What the database would otherwise refuse with a constraint error: 422 or 409."""
    responsible = changes.get("looked_after_la_id")
    if responsible is not None:
        la = await uow.session.get(Organisation, responsible)
        if la is None or la.type != "local_authority":
            raise Invalid.field(
                "looked_after_la_id", "looked_after_la_id must name a local authority"
            )
    upn = changes.get("upn")
    if upn is not None and upn != child.upn:
        taken = await uow.session.scalar(
            select(Child.id).where(Child.upn == upn, Child.id != child.id)
        )
        if taken is not None:
            raise Conflict(
                "Another child is recorded with this UPN; ask the child's home local authority"
            )


async def update_child(
    uow: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    data: ChildUpdate,
    if_match: int | None,
) -> None:
    decision = await gate.decide(uow, principal, child_id)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid.field("body", "name at least one field to change")
    gate.require_write(decision, list(changes))
    child = await uow.session.get(Child, child_id, with_for_update=True)
    if child is None:
        raise NotFound("No such child, or not visible to you")
    if if_match is not None and if_match != child.version:
        raise PreconditionFailed(f"The child is at version {child.version}, not {if_match}")
    await _check_update_references(uow, child, changes)
    if "upn" in changes and child.upn and changes["upn"] != child.upn:
        child.former_upns = [*child.former_upns, child.upn]
    for field, value in changes.items():
        setattr(child, field, value)
    child.version += 1
    await uow.session.flush()
    record(
        uow,
        type="child.updated",
        subject_type="child",
        subject_id=child.id,
        subject_version=child.version,
        child_id=child.id,
        actor=actor_of(principal),
        data={"fields": sorted(changes)},
    )


async def add_enrolment(
    uow: WriteUnit, principal: Principal, child_id: uuid.UUID, data: EnrolmentIn
) -> uuid.UUID:
    decision = await gate.decide(uow, principal, child_id)
    gate.require_write(decision, ["enrolments"])
    school = await uow.session.get(Organisation, data.school_id)
    if school is None or school.type != "school":
        raise Invalid.field("school_id", "school_id must name a school")
    enrolment = Enrolment(child_id=child_id, **data.model_dump())
    uow.session.add(enrolment)
    await uow.session.flush()
    record(
        uow,
        type="child.enrolment_recorded",
        subject_type="child",
        subject_id=child_id,
        child_id=child_id,
        actor=actor_of(principal),
        data={"enrolment_id": str(enrolment.id), **data.model_dump(mode="json")},
    )
    return enrolment.id


async def end_enrolment(
    uow: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    end_date: date,
) -> None:
    decision = await gate.decide(uow, principal, child_id)
    gate.require_write(decision, ["enrolments"])
    enrolment = await uow.session.get(Enrolment, enrolment_id, with_for_update=True)
    if enrolment is None or enrolment.child_id != child_id:
        raise NotFound("No such enrolment for this child")
    if end_date < enrolment.start_date:
        raise Invalid.field("end_date", "end_date must not be before start_date")
    enrolment.end_date = end_date
    await uow.session.flush()
    record(
        uow,
        type="child.enrolment_ended",
        subject_type="child",
        subject_id=child_id,
        child_id=child_id,
        actor=actor_of(principal),
        data={"enrolment_id": str(enrolment_id), "end_date": end_date.isoformat()},
    )


async def list_children(
    uow: ReadUnit,
    principal: Principal,
    *,
    upn: str | None,
    nhs_number: str | None,
    after: uuid.UUID | None,
    limit: int,
    passport: bool,
    surface: str = "rest",
) -> tuple[list[dict[str, Any]], uuid.UUID | None]:
    if upn or nhs_number:
        return await gate.read_matching(
            uow, principal, upn=upn, nhs_number=nhs_number, passport=passport, surface=surface
        ), None
    rows = await gate.read_children(
        uow, principal, after=after, limit=limit, passport=passport, surface=surface
    )
    # No look-ahead row: every row read is audited, so none is read without being returned.
    # A full page therefore carries a cursor even when the next page turns out empty.
    return rows, (uuid.UUID(rows[-1]["id"]) if len(rows) == limit else None)
