"""Child records: creation with duplicate detection, updates, enrolments.

Reads go through `aphub.sharing.gate`; writes ask it for the caller's decision first,
so a hidden child is 404 and a visible one with fields outside the caller's write
grant is 403 naming them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.children import matching
from aphub.children.schemas import ChildCreate, ChildUpdate, EnrolmentIn
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Forbidden, Invalid, NotFound, PreconditionFailed
from aphub.events.log import Actor, record
from aphub.models import Child, Enrolment, Organisation
from aphub.sharing import gate
from aphub.sharing.fields import FIELD_CATEGORY
from aphub.sharing.policy import active_policy

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


# The rule a creator sees its new record by (`_creator_keeps_sight` makes sure it does).
CREATOR_RULES = {
    "local_authority": "la_home",
    "school": "school_on_roll",
    "trust": "trust_school_roll",
}


# What a new record holds for a field not given: naming it is setting nothing.
_RECORD_DEFAULTS: dict[str, object] = {
    "sen_provision": "none",
    "has_medical_needs": False,
    "looked_after": False,
    "child_in_need": False,
    "child_protection_plan": False,
    "young_carer": False,
    "youth_justice": False,
    "free_school_meals": False,
}


def _require_category_writes(principal: Principal, data: ChildCreate) -> None:
    """A creator sets only what its sharing agreement lets it change on the record it
    creates: the same 403 as a change names the fields (a school may not declare a child
    looked after; the home LA may not record medical needs, which it only reads)."""
    decision = active_policy().decide((CREATOR_RULES[principal.organisation_type],))
    given = data.model_dump(exclude={"enrolments"})
    fields = [
        f
        for f, value in given.items()
        if f in FIELD_CATEGORY and value not in (None, [], _RECORD_DEFAULTS.get(f))
    ]
    gate.require_write(decision, [*fields, *(["enrolments"] if data.enrolments else [])])


async def _attach(
    uow: WriteUnit, principal: Principal, child_id: uuid.UUID, data: ChildCreate
) -> None:
    """A school or trust enrolling a child the hub holds: its roll entries join the
    record (each an event the home LA receives); a repeated post adds nothing."""
    held = {
        (e.school_id, e.start_date)
        for e in await uow.session.scalars(select(Enrolment).where(Enrolment.child_id == child_id))
    }
    for enrolment in data.enrolments:
        if (enrolment.school_id, enrolment.start_date) in held:
            continue
        added = Enrolment(child_id=child_id, **enrolment.model_dump())
        uow.session.add(added)
        await uow.session.flush()
        record(
            uow,
            type="child.enrolment_recorded",
            subject_type="child",
            subject_id=child_id,
            child_id=child_id,
            actor=actor_of(principal),
            data={
                "enrolment_id": str(added.id),
                **enrolment.model_dump(mode="json"),
                "matched": True,
            },
        )


async def create_child(
    uow: WriteUnit, principal: Principal, data: ChildCreate
) -> tuple[uuid.UUID, bool]:
    """The child's record, and whether it was created (or matched an existing one: see
    `aphub.children.matching`)."""
    if principal.organisation_type not in CREATORS:
        raise Forbidden("Only local authorities, schools and trusts record children")
    orgs = await _check_references(uow, data)
    _creator_keeps_sight(principal, data, orgs)
    _require_category_writes(principal, data)
    found = await matching.matches(uow, data)
    exact = next(
        (
            m
            for m in found
            if m.exact
            and (
                principal.organisation_type != "local_authority" or m.home_la_id == data.home_la_id
            )
        ),
        None,
    )
    if exact is not None:
        if principal.organisation_type != "local_authority":
            await _attach(uow, principal, exact.child_id, data)
        return exact.child_id, False
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
    await matching.flag_possible_duplicates(uow, child.id, found, actor_of(principal))
    return child.id, True


async def _check_update_references(uow: WriteUnit, child: Child, changes: dict[str, Any]) -> None:
    """What the database would otherwise refuse with a constraint error: 422 or 409."""
    responsible = changes.get("looked_after_la_id")
    if responsible is not None:
        la = await uow.session.get(Organisation, responsible)
        if la is None or la.type != "local_authority":
            raise Invalid.field(
                "looked_after_la_id", "looked_after_la_id must name a local authority"
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
    if changes.get("upn"):
        # another record holding the UPN is flagged to the home LAs, never named here
        holders = await uow.session.scalars(
            select(Child.id).where(
                Child.upn == changes["upn"], Child.id != child.id, Child.merged_into_id.is_(None)
            )
        )
        partial = [matching.Match(h, child.home_la_id, False, ("upn",)) for h in holders]
        await matching.flag_possible_duplicates(uow, child.id, partial, actor_of(principal))
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
    updated_since: datetime | None = None,
) -> tuple[list[dict[str, Any]], uuid.UUID | None]:
    if upn or nhs_number:
        return await gate.read_matching(
            uow, principal, upn=upn, nhs_number=nhs_number, passport=passport, surface=surface
        ), None
    rows = await gate.read_children(
        uow,
        principal,
        after=after,
        limit=limit,
        passport=passport,
        surface=surface,
        since=updated_since,
    )
    # No look-ahead row: every row read is audited, so none is read without being returned.
    # A full page therefore carries a cursor even when the next page turns out empty.
    return rows, (uuid.UUID(rows[-1]["id"]) if len(rows) == limit else None)
