"""The hot single-record reads, served as plain Starlette routes ahead of their FastAPI
twins (which stay registered: they are what OpenAPI documents and what the route
coverage test classifies). A request here resolves no dependencies and opens no ORM
session: it verifies the token (cached), reads through the same sharing-layer function
on a read-pool connection, and returns the JSON that function built. Measured on the
bench: the FastAPI dependency machinery and the session lifecycle were most of a read.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aphub.auth.principal import Principal, bearer_token, principal_from_token
from aphub.children.routes import child_response
from aphub.db import Database, ReadUnit
from aphub.errors import Invalid, Unauthorised
from aphub.placements import repository as placements
from aphub.placements.routes import placement_json_response
from aphub.sharing import gate

Read = Callable[[ReadUnit, Principal, uuid.UUID], Awaitable[Response]]


def _principal(request: Request, scope: str) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthorised("An access token is required", error="invalid_request")
    principal = principal_from_token(request, token)
    principal.require(scope)
    return principal


def _id(request: Request, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        raise Invalid.field(name, "Input should be a valid UUID") from None


def read_route(path: str, param: str, scope: str, read: Read) -> Route:
    async def endpoint(request: Request) -> Response:
        principal = _principal(request, scope)
        record_id = _id(request, param)
        database: Database = request.app.state.db
        unit = ReadUnit(database)
        try:
            return await read(unit, principal, record_id)
        finally:
            await unit.release()

    return Route(path, endpoint, methods=["GET"], include_in_schema=False)


async def _child(unit: ReadUnit, principal: Principal, child_id: uuid.UUID) -> Response:
    return child_response(await gate.read_child(unit, principal, child_id))


async def _placement(unit: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> Response:
    body = await placements.read_json(unit, principal, placement_id)
    return placement_json_response(body, placement_id)


ROUTES = [
    read_route("/v1/children/{child_id}", "child_id", "passports:read", _child),
    read_route("/v1/placements/{placement_id}", "placement_id", "placements:read", _placement),
]
