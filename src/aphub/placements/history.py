"""A placement's history: its events, in order, with actor and time."""

from __future__ import annotations

import uuid
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import NotFound
from aphub.placements import repository


async def history(
    uow: ReadUnit, principal: Principal, placement_id: uuid.UUID
) -> list[dict[str, Any]]:
    if not await repository.is_visible(uow, principal, placement_id):
        raise NotFound("No such placement, or not visible to you")
    return (await repository.history_of(uow, principal, [placement_id]))[placement_id]
