"""The placement actions: one table, from which REST (`endpoints.py`) and GraphQL
(`graphql.py`) both build theirs, so the two cannot drift."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.placements import lifecycle
from aphub.placements.repository import LockedPlacement
from aphub.placements.schemas import (
    EndAction,
    ExtendAction,
    OfferAction,
    ProposeEndAction,
    ReasonAction,
    StartAction,
)

Act = Callable[[WriteUnit, Principal, uuid.UUID, Any, int | None], Awaitable[LockedPlacement]]


@dataclass(frozen=True, slots=True)
class PlacementAction:
    name: str  # the path segment: POST /v1/placements/{id}/<name>
    act: Act
    body: type[BaseModel]
    summary: str
    event: str  # the one event a successful action appends
    mutation: str  # the GraphQL mutation's name
    body_optional: bool = False  # GraphQL: the input may be left out

    @property
    def operation_id(self) -> str:
        return f"{self.name.replace('-', '_')}_placement"


ACTIONS: tuple[PlacementAction, ...] = (
    PlacementAction(
        "offer",
        lifecycle.offer,
        OfferAction,
        "Provider offers a place (requested → offered)",
        "placement.offered",
        "offerPlacement",
        body_optional=True,
    ),
    PlacementAction(
        "decline",
        lifecycle.decline,
        ReasonAction,
        "Provider declines (requested → declined)",
        "placement.declined",
        "declinePlacement",
    ),
    PlacementAction(
        "start",
        lifecycle.start,
        StartAction,
        "Provider starts the placement (offered → active), once every guard is met",
        "placement.started",
        "startPlacement",
        body_optional=True,
    ),
    PlacementAction(
        "extend",
        lifecycle.extend,
        ExtendAction,
        "Commissioner extends, as a review decided (active, planned end moves)",
        "placement.extended",
        "extendPlacement",
    ),
    PlacementAction(
        "end",
        lifecycle.end,
        EndAction,
        "Commissioner ends with reason and destination (active → ended)",
        "placement.ended",
        "endPlacement",
    ),
    PlacementAction(
        "cancel",
        lifecycle.cancel,
        ReasonAction,
        "Commissioner cancels (requested or offered → cancelled)",
        "placement.cancelled",
        "cancelPlacement",
    ),
    PlacementAction(
        "propose-end",
        lifecycle.propose_end,
        ProposeEndAction,
        "Provider proposes an end to the commissioner (active)",
        "placement.end_proposed",
        "proposePlacementEnd",
    ),
)
