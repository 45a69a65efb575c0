"""The hot reads and the placement transitions, served by plain Starlette routes that the
`FastPath` middleware dispatches ahead of FastAPI's own stack (its exception middleware,
exit stack and router). Their FastAPI twins stay registered: they are what OpenAPI
documents and what the route coverage test classifies, and they call the same functions.
A request here resolves no dependencies and opens no ORM session:
- a read verifies the token (cached), reads through the same sharing-layer function on a
  read-pool connection, and returns the JSON that function built;
- a transition validates its body with the same model, claims its Idempotency-Key and
  runs the same service in a `WriteUnit` (an asyncpg transaction), and answers with the
  JSON the transition's statement built.
Measured on the bench: the FastAPI dependency machinery and the session lifecycle were
most of a read, and most of the Python of a transition.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aphub import idempotency
from aphub.auth.principal import Principal, bearer_token, principal_from_token
from aphub.children.routes import child_response, children_page
from aphub.db import Database, ReadUnit, WriteUnit
from aphub.errors import Invalid, Unauthorised, validation_problem
from aphub.http import parse_if_match
from aphub.pagination import DEFAULT_LIMIT, MAX_LIMIT
from aphub.placements import repository as placements
from aphub.placements.routes import (
    ACTIONS,
    Action,
    changed_response,
    placement_json_response,
    review_response,
)
from aphub.placements.schemas import ReviewCreate
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
        async with database.reading() as unit:
            return await read(unit, principal, record_id)

    return Route(path, endpoint, methods=["GET"], include_in_schema=False)


async def _child(unit: ReadUnit, principal: Principal, child_id: uuid.UUID) -> Response:
    return child_response(await gate.read_child(unit, principal, child_id))


async def _placement(unit: ReadUnit, principal: Principal, placement_id: uuid.UUID) -> Response:
    body = await placements.read_json(unit, principal, placement_id)
    return placement_json_response(body, placement_id)


class PageRoute(Route):
    """`GET /v1/children` when the query is only a valid `limit`, `cursor` and
    `include=passport`: anything else (a UPN or NHS number search, a bad limit) is left
    to the FastAPI route, which validates it and answers its errors."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL and _page_query(scope) is None:
            return Match.NONE, {}
        return match, child_scope


def _page_query(scope: Scope) -> tuple[int, str | None, bool] | None:
    limit, cursor, passport = DEFAULT_LIMIT, None, False
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name == "limit" and value.isdigit() and 1 <= int(value) <= MAX_LIMIT:
            limit = int(value)
        elif name == "cursor" and len(value) <= 512:
            cursor = value
        elif name == "include" and value == "passport":
            passport = True
        else:
            return None
    return limit, cursor, passport


async def _children_page(request: Request) -> Response:
    principal = _principal(request, "passports:read")
    query = _page_query(request.scope)
    assert query is not None  # PageRoute matched only such a query
    limit, cursor, passport = query
    database: Database = request.app.state.db
    async with database.reading() as unit:
        return await children_page(unit, principal, cursor=cursor, limit=limit, passport=passport)


# --- transitions --------------------------------------------------------------------

Change = Callable[[WriteUnit, Principal, uuid.UUID, Any, int | None], Awaitable[Response]]


def _body(model: type[BaseModel], raw: bytes) -> BaseModel:
    """The body validated as FastAPI validates it (JSON decoded, then the model), with
    the same 422 for what fails."""
    if not raw:
        raise validation_problem([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise validation_problem(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error"}]
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise validation_problem(errors) from None


def write_route(
    path: str, body_type: type[BaseModel], change: Change, *, status: int, etag: bool
) -> Route:
    """A transition's route. It answers `status` with the JSON the transition's statement
    builds (and that version's ETag if `etag`), which that statement keeps under the
    Idempotency-Key too."""

    async def endpoint(request: Request) -> Response:
        principal = _principal(request, "placements:write")
        placement_id = _id(request, "placement_id")
        key = idempotency.checked_key(request.headers.get(idempotency.HEADER))
        if_match = parse_if_match(request.headers.get("if-match"))
        raw = await request.body()
        body = _body(body_type, raw)
        database: Database = request.app.state.db
        async with database.writing() as unit:
            if key is not None:
                digest = idempotency.request_hash(request.method, request.scope["path"], raw)
                unit.claim_idempotency_key(idempotency.KeyClaim(principal.client_id, key, digest))
            response = await change(unit, principal, placement_id, body, if_match)
            unit.keep_response(response.status_code, bytes(response.body), response.headers)
        return response

    return Route(path, endpoint, methods=["POST"], include_in_schema=False)


def _acting(act: Action) -> Change:
    async def change(
        unit: WriteUnit,
        principal: Principal,
        placement_id: uuid.UUID,
        body: Any,
        if_match: int | None,
    ) -> Response:
        return changed_response(await act(unit, principal, placement_id, body, if_match))

    return change


class FastPath:
    """ASGI middleware, inside `HubMiddleware` (request id, access log, body limits): a
    request that one of `routes` matches fully is served here, its errors answered by the
    application's own exception handlers (as Starlette's exception middleware would);
    anything else, and any error without a handler, goes on as before."""

    def __init__(self, app: ASGIApp, routes: Sequence[Route] | None = None) -> None:
        self.app = app
        self.routes = list(ROUTES if routes is None else routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await _serve(route, scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _serve(route: Route, scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive, send)
    try:
        response = await route.endpoint(request)
    except Exception as exc:
        handler = _handler(request, exc)
        if handler is None:
            raise  # answered as any unhandled error (HubMiddleware: 500, logged)
        response = await handler(request, exc)
    await response(scope, receive, send)


def _handler(request: Request, exc: Exception) -> Any:
    """The application's handler for this error's class or the nearest base, short of
    `Exception` itself (whose handler answers errors nothing else handles)."""
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


ROUTES = [
    PageRoute("/v1/children", _children_page, methods=["GET"], include_in_schema=False),
    read_route("/v1/children/{child_id}", "child_id", "passports:read", _child),
    read_route("/v1/placements/{placement_id}", "placement_id", "placements:read", _placement),
    write_route(
        "/v1/placements/{placement_id}/reviews",
        ReviewCreate,
        review_response,
        status=201,
        etag=False,
    ),
    *(
        write_route(
            f"/v1/placements/{{placement_id}}/{name}",
            action.body,
            _acting(action.act),
            status=200,
            etag=True,
        )
        for name, action in ACTIONS.items()
    ),
]
