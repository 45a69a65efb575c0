"""Every REST endpoint of the hub, in one table (routes, OpenAPI and the tests that walk
the table are all built from it)."""

from __future__ import annotations

from aphub.api.endpoint import Endpoint
from aphub.placements.endpoints import ENDPOINTS as PLACEMENTS

ENDPOINTS: tuple[Endpoint, ...] = (*PLACEMENTS,)
