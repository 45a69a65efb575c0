"""Involvements: a health or social care body linked to a child, which is what lets it see
the child at all (sharing rules `health_involvement` / `social_care_involvement`), and
only in the categories recorded here.

The home LA or a school with the child on roll records and ends them; the involved body
may end its own. Access follows the dates: an involvement is current from its start date
to its end date inclusive, in England's calendar (as the sharing SQL computes it).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, cast, func, or_, select

from aphub.auth.principal import Principal
from aphub.children.involvement_schemas import InvolvementCreate
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Forbidden, Invalid, NotFound
from aphub.events.log import Actor, record
from aphub.models import Involvement, Organisation
from aphub.sharing import gate
from aphub.sharing.policy import Decision, active_policy

# The relationships that may record and end involvements for a child.
RECORDING_RULES = frozenset({"la_home", "school_on_roll"})
# The sharing rule an involvement of each kind of organisation grants.
INVOLVEMENT_RULE = {"health": "health_involvement", "social_care": "social_care_involvement"}


def today_in_england() -> ColumnElement[date]:
    """Today as the sharing rules see it: the database clock, in England."""
    return cast(func.timezone("Europe/London", func.now()), Date)


def current_condition(today: ColumnElement[date]) -> ColumnElement[bool]:
    return and_(
        Involvement.start_date <= today,
        or_(Involvement.end_date.is_(None), Involvement.end_date >= today),
    )


def grantable_categories(organisation_type: str) -> frozenset[str]:
    """What the area's sharing agreement lets an involvement of this kind read."""
    rule = active_policy().rules.get(INVOLVEMENT_RULE[organisation_type])
    return rule.read.categories if rule else frozenset()


def _require_recorder(decision: Decision) -> None:
    if not RECORDING_RULES & set(decision.rules):
        raise Forbidden(
            "Only the child's home local authority or a school with the child on its roll "
            "records involvements"
        )


def view(row: Involvement, organisation: Organisation, current: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "child_id": row.child_id,
        "organisation_id": row.organisation_id,
        "organisation_name": organisation.name,
        "organisation_type": organisation.type,
        "basis": row.basis,
        "consent_reference": row.consent_reference,
        "start_date": row.start_date,
        "end_date": row.end_date,
        "current": current,
        "categories": sorted(row.categories),
        "recorded_by_id": row.recorded_by_id,
        "version": row.version,
        "created_at": row.created_at,
    }


def _is_current(row: Involvement, today: date) -> bool:
    return row.start_date <= today and (row.end_date is None or row.end_date >= today)


async def _today(uow: WriteUnit) -> date:
    today: date | None = await uow.session.scalar(select(today_in_england()))
    assert today is not None  # a SELECT of an expression always returns its row
    return today


async def record_involvement(
    uow: WriteUnit, principal: Principal, child_id: uuid.UUID, data: InvolvementCreate
) -> dict[str, Any]:
    decision = await gate.decide(uow, principal, child_id)
    _require_recorder(decision)
    organisation = await uow.session.get(Organisation, data.organisation_id)
    if organisation is None or organisation.type not in INVOLVEMENT_RULE:
        raise Invalid.field(
            "organisation_id", "organisation_id must name a health or social care organisation"
        )
    if not organisation.active:
        raise Invalid.field("organisation_id", "the organisation is no longer active in the hub")
    granted = grantable_categories(organisation.type)
    if not granted:
        raise Invalid.field(
            "organisation_id",
            f"the sharing agreement grants nothing to {organisation.type} involvements",
        )
    categories = sorted({c.value for c in data.categories} if data.categories else granted)
    refused = sorted(set(categories) - granted)
    if refused:
        raise Invalid.field(
            "categories",
            f"the sharing agreement does not let a {organisation.type} involvement read "
            f"{', '.join(refused)} (it may read {', '.join(sorted(granted))})",
        )
    overlapping = await uow.session.scalar(
        select(Involvement.id)
        .where(
            Involvement.child_id == child_id,
            Involvement.organisation_id == organisation.id,
            or_(Involvement.end_date.is_(None), Involvement.end_date >= data.start_date),
            Involvement.start_date <= (data.end_date or date.max),
            # a withdrawn involvement (ended before its start) blocks nothing
            or_(Involvement.end_date.is_(None), Involvement.end_date >= Involvement.start_date),
        )
        .limit(1)
    )
    if overlapping is not None:
        raise Conflict(
            "This organisation already has an involvement with the child for these dates",
            extra={"existing_id": str(overlapping)},
        )
    involvement = Involvement(
        child_id=child_id,
        organisation_id=organisation.id,
        basis=data.basis.value,
        consent_reference=data.consent_reference,
        start_date=data.start_date,
        end_date=data.end_date,
        categories=categories,
        recorded_by_id=principal.organisation_id,
        version=1,
    )
    uow.session.add(involvement)
    await uow.session.flush()
    await uow.session.refresh(involvement, ["created_at"])
    record(
        uow,
        type="involvement.recorded",
        subject_type="involvement",
        subject_id=involvement.id,
        subject_version=1,
        child_id=child_id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data={
            "organisation_id": str(organisation.id),
            "organisation_type": organisation.type,
            "basis": involvement.basis,
            "start_date": involvement.start_date.isoformat(),
            "end_date": involvement.end_date.isoformat() if involvement.end_date else None,
            "categories": categories,
        },
    )
    return view(involvement, organisation, _is_current(involvement, await _today(uow)))


async def end_involvement(
    uow: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    involvement_id: uuid.UUID,
    end_date: date | None,
) -> dict[str, Any]:
    """Set the involvement's last day (default: yesterday, so access stops now).

    Stopping now an involvement that started today, or has not started, withdraws it: its
    last day becomes the day before its start, and it is never current again."""
    decision = await gate.decide(uow, principal, child_id)
    involvement = await uow.session.get(Involvement, involvement_id, with_for_update=True)
    if involvement is None or involvement.child_id != child_id:
        raise NotFound("No such involvement for this child")
    if involvement.organisation_id != principal.organisation_id:
        _require_recorder(decision)
    today = await _today(uow)
    if involvement.end_date is not None and involvement.end_date < involvement.start_date:
        raise Conflict("The involvement was withdrawn")
    if involvement.end_date is not None and involvement.end_date < today:
        raise Conflict(f"The involvement already ended on {involvement.end_date.isoformat()}")
    last_day = end_date if end_date is not None else today - timedelta(days=1)
    if end_date is None and last_day < involvement.start_date:
        last_day = involvement.start_date - timedelta(days=1)  # withdrawn, effective now
    elif last_day < involvement.start_date:
        raise Invalid.field(
            "end_date",
            f"end_date must not be before the involvement's start ({involvement.start_date}); "
            "to withdraw it before or on its first day, end it without a date",
        )
    if involvement.end_date is not None and last_day > involvement.end_date:
        raise Invalid.field(
            "end_date",
            f"end_date is after the planned end ({involvement.end_date}); "
            "ending an involvement never extends it",
        )
    involvement.end_date = last_day
    involvement.version += 1
    await uow.session.flush()
    organisation = await uow.session.get(Organisation, involvement.organisation_id)
    assert organisation is not None  # a foreign key
    record(
        uow,
        type="involvement.ended",
        subject_type="involvement",
        subject_id=involvement.id,
        subject_version=involvement.version,
        child_id=child_id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data={
            "organisation_id": str(involvement.organisation_id),
            "organisation_type": organisation.type,
            "end_date": last_day.isoformat(),
            "withdrawn": last_day < involvement.start_date,
        },
    )
    return view(involvement, organisation, _is_current(involvement, today))


async def _rows(
    uow: ReadUnit, where: list[ColumnElement[bool]], limit: int | None = None
) -> list[dict[str, Any]]:
    today = today_in_england()
    query = (
        select(Involvement, Organisation, current_condition(today).label("current"))
        .join(Organisation, Organisation.id == Involvement.organisation_id)
        .where(*where)
        .order_by(Involvement.child_id, Involvement.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [view(i, o, bool(c)) for i, o, c in (await uow.session.execute(query)).all()]


def readable_kinds(decision: Decision) -> frozenset[str]:
    """The organisation types whose involvements the caller may see (sharing/fields.py)."""
    return frozenset(
        kind for kind in ("health", "social_care") if f"involvements.{kind}" in decision.read.fields
    )


def _require_some(decision: Decision) -> frozenset[str]:
    kinds = readable_kinds(decision)
    if not kinds:
        raise Forbidden("Your sharing agreement does not let you see this child's involvements")
    return kinds


async def list_involvements(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    surface: str = "rest",
) -> tuple[list[dict[str, Any]], uuid.UUID | None]:
    """The child's involvements, oldest recorded first; audited as action `involvements`."""
    decision = await gate.decide_audited(
        uow, principal, child_id, action="involvements", surface=surface
    )
    kinds = _require_some(decision)
    where = [Involvement.child_id == child_id, Organisation.type.in_(sorted(kinds))]
    if after is not None:
        where.append(Involvement.id > after)
    rows = await _rows(uow, where, limit + 1)
    page = rows[:limit]
    return page, (page[-1]["id"] if len(rows) > limit else None)


async def involvements_of_children(
    uow: ReadUnit, child_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """For children the sharing layer has already shown the caller (GraphQL's
    `Child.involvements`, which keeps only the kinds the caller may read): one statement
    for a whole page."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {c: [] for c in child_ids}
    for row in await _rows(uow, [Involvement.child_id.in_(child_ids)]):
        found[row["child_id"]].append(row)
    return found
