"""Subject access export: everything the hub holds about one child, for its home LA.

The home LA is the data controller for its residents' records, so the export is not
shaped by sharing categories: it holds every column of every row about the child, every
version of every passport section, every event about the child and the complete access
audit (this export's own row included). It is audited as action `export`, surface
`export`, with every category.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, select

from aphub.auth.principal import Principal
from aphub.children.access_log import controller_decision, entries
from aphub.db import ReadUnit
from aphub.errors import NotFound
from aphub.models import (
    Child,
    Consent,
    Enrolment,
    Event,
    Involvement,
    PassportSection,
    PassportSectionVersion,
    Placement,
)
from aphub.models.base import Base
from aphub.sharing import gate
from aphub.sharing.fields import CATEGORIES


def columns(row: Base) -> dict[str, Any]:
    """Every mapped column of a row, so a column added later is exported too."""
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


def _event(row: Event) -> dict[str, Any]:
    return {
        "id": row.id,
        "seq": row.seq,
        "type": row.type,
        "occurred_at": row.occurred_at,
        "actor": {"organisation_id": row.actor_organisation_id, "client_id": row.actor_client_id},
        "subject": {"type": row.subject_type, "id": row.subject_id, "version": row.subject_version},
        "data": row.data,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


async def _passport(uow: ReadUnit, child_id: uuid.UUID) -> dict[str, Any]:
    sections = await uow.session.scalars(
        select(PassportSection)
        .where(PassportSection.child_id == child_id)
        .order_by(PassportSection.section)
    )
    passport = {
        s.section: {**{k: v for k, v in columns(s).items() if k != "child_id"}, "history": []}
        for s in sections
    }
    versions = await uow.session.scalars(
        select(PassportSectionVersion)
        .where(PassportSectionVersion.child_id == child_id)
        .order_by(PassportSectionVersion.section, PassportSectionVersion.version)
    )
    for v in versions:
        version = {k: val for k, val in columns(v).items() if k not in ("child_id", "section")}
        passport.setdefault(v.section, {"history": []})["history"].append(version)
    return passport


def placement_records() -> list[type[Base]]:
    """Every table of rows hung on a placement (intended outcomes, reviews, attendance...):
    found from the metadata, so a table added later is exported without a change here."""
    found = [m.class_ for m in Base.registry.mappers if "placement_id" in m.columns]
    return sorted(found, key=lambda cls: str(cls.__tablename__))


async def _placements(uow: ReadUnit, child_id: uuid.UUID) -> list[dict[str, Any]]:
    placements = [
        columns(p)
        for p in await uow.session.scalars(
            select(Placement).where(Placement.child_id == child_id).order_by(Placement.id)
        )
    ]
    ids = [p["id"] for p in placements]
    held: dict[uuid.UUID, dict[str, list[dict[str, Any]]]] = {
        i: {str(cls.__tablename__): [] for cls in placement_records()} for i in ids
    }
    for cls in placement_records():
        table = str(cls.__tablename__)
        placement_id = cls.__mapper__.columns["placement_id"]
        rows = await uow.session.scalars(
            select(cls)
            .where(placement_id.in_(ids))
            .order_by(placement_id, *cls.__mapper__.primary_key)
        )
        for row in rows:
            record = columns(row)
            held[record["placement_id"]][table].append(record)
    return [{**p, **held[p["id"]]} for p in placements]


async def export_child(uow: ReadUnit, principal: Principal, child_id: uuid.UUID) -> dict[str, Any]:
    decision = await controller_decision(
        uow, principal, child_id, action="export", surface="export"
    )
    await gate.record_access(
        uow,
        principal,
        child_id,
        action="export",
        surface="export",
        outcome="allowed",
        rules=decision.rules,
        categories=list(CATEGORIES),
    )
    child = await uow.session.get(Child, child_id)
    if child is None:  # deleted between the decision and now
        raise NotFound("No such child, or not visible to you")
    session = uow.session
    enrolments = await session.scalars(
        select(Enrolment).where(Enrolment.child_id == child_id).order_by(Enrolment.start_date)
    )
    involvements = await session.scalars(
        select(Involvement).where(Involvement.child_id == child_id).order_by(Involvement.id)
    )
    consents = await session.scalars(
        select(Consent).where(Consent.child_id == child_id).order_by(Consent.id)
    )
    events = await session.scalars(
        select(Event).where(Event.child_id == child_id).order_by(Event.seq)
    )
    return {
        "exported_at": datetime.now(UTC),
        "policy_version": decision.policy_version,
        "child": columns(child),
        "enrolments": [columns(e) for e in enrolments],
        "passport": await _passport(uow, child_id),
        "involvements": [columns(i) for i in involvements],
        "consents": [columns(c) for c in consents],
        "placements": await _placements(uow, child_id),
        "events": [_event(e) for e in events],
        "access_log": await entries(uow, child_id, newest_first=False),
    }
