"""What a placement led to: progress per intended outcome, accreditations, attendance at
entry and exit, destination and follow-ups. Read for a page of placements at once (a
fixed number of statements whatever its size: GraphQL's `Placement.outcomes`), each only
when the caller may see the placement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from aphub.attendance import repository as attendance
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import NotFound
from aphub.models import Accreditation, FollowUp, IntendedOutcome, OutcomeProgress, Placement
from aphub.outcomes.service import KINDS, due_on
from aphub.placements import repository as placements


def progress_json(r: OutcomeProgress) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "outcome_id": str(r.outcome_id) if r.outcome_id else None,
        "outcome_description": r.outcome_description,
        "rating": r.rating,
        "evidence": r.evidence,
        "recorded_on": r.recorded_on.isoformat(),
        "recorded_by_id": str(r.recorded_by_id),
        "created_at": r.created_at.isoformat(),
    }


def accreditation_json(a: Accreditation) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "qualification": a.qualification,
        "level": a.level,
        "grade": a.grade,
        "awarding_body": a.awarding_body,
        "awarded_on": a.awarded_on.isoformat(),
        "recorded_by_id": str(a.recorded_by_id),
        "created_at": a.created_at.isoformat(),
    }


def follow_up_json(f: FollowUp) -> dict[str, Any]:
    return {
        "id": str(f.id),
        "kind": f.kind,
        "due_on": f.due_on.isoformat(),
        "sustained": f.sustained,
        "note": f.note,
        "recorded_on": f.recorded_on.isoformat(),
        "recorded_by_id": str(f.recorded_by_id),
        "created_at": f.created_at.isoformat(),
    }


async def outcomes(uow: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> dict[str, Any]:
    """The view of one placement the caller may see (404 otherwise)."""
    found = await outcomes_of(uow, principal, [placement_id])
    if placement_id not in found:
        raise NotFound("No such placement, or not visible to you")
    return found[placement_id]


async def outcomes_of(
    uow: ReadUnit, principal: Principal, placement_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The view of each placement among `placement_ids` the caller may see."""
    visible = await placements.visible_ids(uow, principal, list(placement_ids))
    if not visible:
        return {}
    rows = await uow.session.scalars(
        select(Placement).where(Placement.id.in_(visible)).execution_options(populate_existing=True)
    )
    by_id = {p.id: p for p in rows}
    intended = await uow.session.scalars(
        select(IntendedOutcome)
        .where(IntendedOutcome.placement_id.in_(visible))
        .order_by(IntendedOutcome.created_at, IntendedOutcome.id)
    )
    progress = await uow.session.scalars(
        select(OutcomeProgress)
        .where(OutcomeProgress.placement_id.in_(visible))
        .order_by(OutcomeProgress.recorded_on, OutcomeProgress.id)
    )
    accreditations = await uow.session.scalars(
        select(Accreditation)
        .where(Accreditation.placement_id.in_(visible))
        .order_by(Accreditation.awarded_on, Accreditation.id)
    )
    follow_ups = await uow.session.scalars(
        select(FollowUp).where(FollowUp.placement_id.in_(visible))
    )
    spans = await attendance.entry_exits(uow, principal, visible)
    grouped: dict[str, dict[uuid.UUID, list[Any]]] = {
        "intended": {},
        "progress": {},
        "accreditations": {},
        "follow_ups": {},
    }
    for name, items in (
        ("intended", intended),
        ("progress", progress),
        ("accreditations", accreditations),
        ("follow_ups", follow_ups),
    ):
        for item in items:
            grouped[name].setdefault(item.placement_id, []).append(item)
    return {
        pid: _view(
            p,
            grouped["intended"].get(pid, []),
            grouped["progress"].get(pid, []),
            grouped["accreditations"].get(pid, []),
            {f.kind: f for f in grouped["follow_ups"].get(pid, [])},
            spans.get(pid),
        )
        for pid, p in by_id.items()
    }


def _view(
    p: Placement,
    intended: list[IntendedOutcome],
    progress: list[OutcomeProgress],
    accreditations: list[Accreditation],
    follow_ups: dict[str, FollowUp],
    span: Any,
) -> dict[str, Any]:
    by_outcome: dict[uuid.UUID | None, list[dict[str, Any]]] = {}
    for r in progress:
        by_outcome.setdefault(r.outcome_id, []).append(progress_json(r))
    current = {o.id for o in intended}
    first = span["first"] if span else None
    last = span["last"] if span else None
    empty: dict[str, Any] = {}
    return {
        "placement_id": str(p.id),
        "version": p.version,
        "status": p.status,
        "outcomes": [
            {
                "id": str(o.id),
                "description": o.description,
                "baseline": o.baseline,
                "target": o.target,
                "measure": o.measure,
                "target_date": o.target_date.isoformat(),
                "latest_rating": by_outcome[o.id][-1]["rating"] if o.id in by_outcome else None,
                "progress": by_outcome.get(o.id, []),
            }
            for o in intended
        ],
        "replaced_outcome_progress": [
            progress_json(r) for r in progress if r.outcome_id not in current
        ],
        "accreditations": [accreditation_json(a) for a in accreditations],
        "attendance": {
            "entry": attendance.summary_json(
                span or empty, first, _plus(first, 27), prefix="entry_"
            ),
            "exit": attendance.summary_json(span or empty, _plus(last, -27), last, prefix="exit_"),
        },
        "destination": p.destination,
        "end_reason": p.end_reason,
        "actual_end_date": p.actual_end_date.isoformat() if p.actual_end_date else None,
        "follow_ups": [
            {
                "kind": kind,
                "due_on": due_on(kind, p.actual_end_date).isoformat()
                if p.actual_end_date
                else None,
                "recorded": follow_up_json(follow_ups[kind]) if kind in follow_ups else None,
            }
            for kind in KINDS
        ],
    }


def _plus(day: date | None, days: int) -> date | None:
    return day + timedelta(days=days) if day else None
