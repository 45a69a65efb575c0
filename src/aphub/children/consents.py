"""Consent records: who consented to what for the child, and when it was withdrawn.

Any organisation that may change something of the child's record may record a consent or
a withdrawal; organisations that may read the child's `contacts` may see them (a consent
names the person who gave it and their relationship to the child).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select

from aphub.auth.principal import Principal
from aphub.children.consent_schemas import ConsentCreate
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Forbidden, Invalid, NotFound
from aphub.events.log import Actor, record
from aphub.models import Consent
from aphub.sharing import gate
from aphub.sharing.policy import Decision


def view(row: Consent) -> dict[str, Any]:
    return {
        "id": row.id,
        "child_id": row.child_id,
        "purpose": row.purpose,
        "given_by": row.given_by,
        "relationship_to_child": row.relationship_to_child,
        "given_on": row.given_on,
        "withdrawn_on": row.withdrawn_on,
        "recorded_by_id": row.recorded_by_id,
        "created_at": row.created_at,
    }


def _require_some_write(decision: Decision) -> None:
    if not decision.write.categories:
        raise Forbidden(
            "Your sharing agreement lets you change nothing of this child's record, "
            "so you cannot record its consents"
        )


async def record_consent(
    uow: WriteUnit, principal: Principal, child_id: uuid.UUID, data: ConsentCreate
) -> dict[str, Any]:
    decision = await gate.decide(uow, principal, child_id)
    _require_some_write(decision)
    consent = Consent(
        child_id=child_id,
        purpose=data.purpose,
        given_by=data.given_by,
        relationship_to_child=data.relationship_to_child.value,
        given_on=data.given_on,
        withdrawn_on=data.withdrawn_on,
        recorded_by_id=principal.organisation_id,
    )
    uow.session.add(consent)
    await uow.session.flush()
    await uow.session.refresh(consent, ["created_at"])
    # The event says what happened, not who consented: names stay in the record, which
    # only organisations that may read contacts can see.
    record(
        uow,
        type="consent.recorded",
        subject_type="consent",
        subject_id=consent.id,
        child_id=child_id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data={
            "relationship_to_child": consent.relationship_to_child,
            "given_on": consent.given_on.isoformat(),
            "withdrawn_on": consent.withdrawn_on.isoformat() if consent.withdrawn_on else None,
        },
    )
    return view(consent)


async def withdraw_consent(
    uow: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    consent_id: uuid.UUID,
    withdrawn_on: date | None,
) -> dict[str, Any]:
    decision = await gate.decide(uow, principal, child_id)
    _require_some_write(decision)
    consent = await uow.session.get(Consent, consent_id, with_for_update=True)
    if consent is None or consent.child_id != child_id:
        raise NotFound("No such consent for this child")
    if consent.withdrawn_on is not None:
        raise Conflict(f"The consent was already withdrawn on {consent.withdrawn_on.isoformat()}")
    withdrawn = withdrawn_on or date.today()
    if withdrawn < consent.given_on:
        raise Invalid.field(
            "withdrawn_on", f"withdrawn_on must not be before given_on ({consent.given_on})"
        )
    consent.withdrawn_on = withdrawn
    await uow.session.flush()
    record(
        uow,
        type="consent.withdrawn",
        subject_type="consent",
        subject_id=consent.id,
        child_id=child_id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data={"withdrawn_on": withdrawn.isoformat()},
    )
    return view(consent)


def _require_contacts(decision: Decision) -> None:
    if not decision.can_read("contacts"):
        raise Forbidden("Your sharing agreement does not let you see this child's consents")


async def _rows(
    uow: ReadUnit, where: list[ColumnElement[bool]], limit: int | None = None
) -> list[dict[str, Any]]:
    query = select(Consent).where(*where).order_by(Consent.child_id, Consent.id)
    if limit is not None:
        query = query.limit(limit)
    return [view(c) for c in await uow.session.scalars(query)]


async def list_consents(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    surface: str = "rest",
) -> tuple[list[dict[str, Any]], uuid.UUID | None]:
    """The child's consents, oldest recorded first; audited as action `consents`."""
    decision = await gate.decide_audited(
        uow, principal, child_id, action="consents", surface=surface
    )
    _require_contacts(decision)
    where = [Consent.child_id == child_id]
    if after is not None:
        where.append(Consent.id > after)
    rows = await _rows(uow, where, limit + 1)
    page = rows[:limit]
    return page, (page[-1]["id"] if len(rows) > limit else None)


async def consents_of_children(
    uow: ReadUnit, child_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """For children the sharing layer has already shown the caller, with `contacts` among
    its categories (GraphQL's `Child.consents`): one statement for a whole page."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {c: [] for c in child_ids}
    for row in await _rows(uow, [Consent.child_id.in_(child_ids)]):
        found[row["child_id"]].append(row)
    return found
