"""A placement's history: its events, in order, with actor and time."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.db import UnitOfWork
from aphub.errors import NotFound
from aphub.models import Event
from aphub.placements import repository


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "seq": event.seq,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": {
            "organisation_id": str(event.actor_organisation_id)
            if event.actor_organisation_id
            else None,
            "client_id": event.actor_client_id,
        },
        "version": event.subject_version,
        "data": event.data,
    }


async def history(
    uow: UnitOfWork, principal: Principal, placement_id: uuid.UUID
) -> list[dict[str, Any]]:
    if not await repository.is_visible(uow, principal, placement_id):
        raise NotFound("No such placement, or not visible to you")
    events = await uow.session.scalars(
        select(Event)
        .where(Event.subject_type == "placement", Event.subject_id == placement_id)
        .order_by(Event.seq)
    )
    return [event_json(e) for e in events]
