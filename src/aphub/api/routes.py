"""From declarations to routes: the FastAPI route of every endpoint (what OpenAPI
documents), and the lean dispatch of the hot ones, both serving through `serve`.

The FastAPI route is built from a stand-in function whose signature lists what the
endpoint reads (path parameters, query model, body model, headers, scopes) so that
OpenAPI documents it; the route's handler is `serve` itself, so FastAPI neither resolves
dependencies nor validates anything at run time, and a hot endpoint's FastAPI route
behaves exactly as its lean dispatch does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Path, Query, Security, params
from fastapi.openapi.models import Example
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aphub import idempotency
from aphub.api.endpoint import Endpoint
from aphub.api.examples import request_example
from aphub.api.serve import serve
from aphub.auth.principal import oauth2_scheme
from aphub.errors import problem_responses


def _parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _has_param(annotation: Any) -> bool:
    """Whether an annotation already says how FastAPI documents it (`Path(...)`)."""
    metadata = getattr(annotation, "__metadata__", ())
    return any(isinstance(m, params.Param) for m in metadata)


def _documented(endpoint: Endpoint) -> Callable[..., Any]:
    """A function FastAPI reads to document the endpoint (never called)."""
    signature = endpoint.signature
    parameters = [
        _parameter(name, kind if _has_param(kind) else Annotated[kind, Path()])
        for name, kind in signature.path_types.items()
    ]
    if signature.query is not None:
        parameters.append(_parameter("query", Annotated[signature.query, Query()]))
    if signature.body is not None:
        example = request_example(signature.body)
        shown = {"example": Example(summary="A valid body", value=example)} if example else None
        body = Body(openapi_examples=shown)
        parameters.append(_parameter("body", Annotated[signature.body, body]))
    if signature.if_match:
        header = Header(
            alias="If-Match", description="ETag of the version you read; 412 if it moved on"
        )
        parameters.append(_parameter("if_match", Annotated[str | None, header], None))
    if endpoint.idempotent:
        header = Header(
            alias=idempotency.HEADER,
            min_length=1,
            max_length=idempotency.MAX_KEY_LENGTH,
            description="Makes the POST safe to retry: the first response is replayed",
        )
        parameters.append(_parameter("idempotency_key", Annotated[str | None, header], None))
    if not endpoint.public:
        scopes = [endpoint.scope] if endpoint.scope else []
        security = Security(oauth2_scheme, scopes=scopes)
        parameters.append(_parameter("authorization", Annotated[Any, security]))

    async def documented(**_: Any) -> None:
        raise AssertionError("documentation only")

    documented.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    documented.__name__ = endpoint.operation_id
    return documented


def _statuses(endpoint: Endpoint) -> tuple[int, ...]:
    statuses = set(endpoint.errors)
    if not endpoint.public:
        statuses |= {401, 403, 429}
    if endpoint.signature.path:
        statuses |= {404, 422}
    if endpoint.signature.query is not None or endpoint.signature.body is not None:
        statuses |= {422}
    if endpoint.signature.query is not None:
        statuses.add(400)
    if endpoint.signature.if_match:
        statuses.add(412)
    if endpoint.idempotent:
        statuses |= {409, 422}
    if endpoint.method in ("POST", "PUT", "PATCH"):
        statuses |= {413, 415}
    if endpoint.signature.unit is not None:
        statuses.add(503)
    return tuple(sorted(statuses))


_LINK_NEXT = {
    "description": 'RFC 8288: `<URL of the next page>; rel="next"`, while there is one '
    "(the same URL with `next_cursor` as its cursor)",
    "schema": {"type": "string"},
}


class EndpointRoute(APIRoute):
    """The FastAPI route of an endpoint: documented by FastAPI, served by `serve`."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.hub_endpoint = endpoint
        responses: dict[int | str, dict[str, Any]] = {}
        if endpoint.response is not None:
            responses[endpoint.status] = {"model": endpoint.response}
            if endpoint.cursor_parameter is not None:
                responses[endpoint.status]["headers"] = {"Link": _LINK_NEXT}
        elif endpoint.status == 204:
            responses[204] = {"description": "Done"}
        responses.update(problem_responses(*_statuses(endpoint)))
        super().__init__(
            endpoint.path,
            _documented(endpoint),
            methods=[endpoint.method],
            status_code=endpoint.status,
            summary=endpoint.summary,
            description=endpoint.description,
            tags=list(endpoint.tags),
            responses=responses,
            response_class=Response,
            response_model=None,
            operation_id=endpoint.operation_id,
            name=endpoint.operation_id,
            openapi_extra=dict(endpoint.openapi_extra) if endpoint.openapi_extra else None,
            include_in_schema=endpoint.include_in_schema,
        )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.hub_endpoint

        async def handle(request: Request) -> Response:
            return await serve(endpoint, request)

        return handle


def install(app: FastAPI, endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """Register every endpoint's FastAPI route; the hot ones, for `FastPath`."""
    hot = []
    seen: set[tuple[str, str]] = set()
    for endpoint in endpoints:
        if endpoint.key in seen:
            raise ValueError(f"{endpoint.method} {endpoint.path} is declared twice")
        seen.add(endpoint.key)
        endpoint.signature  # noqa: B018 - read the handler's signature now: fail at start
        app.router.routes.append(EndpointRoute(endpoint))
        if endpoint.hot:
            hot.append(endpoint)
    return hot


class FastPath:
    """ASGI middleware, inside `HubMiddleware` (request id, access log, body limits): a
    request a hot endpoint matches fully is served at once, without FastAPI's exception
    middleware, routing over every route and per-request machinery; anything else goes
    on to FastAPI. Both serve through `serve`, which answers every error itself."""

    def __init__(self, app: ASGIApp, endpoints: Sequence[Endpoint] = ()) -> None:
        self.app = app
        self.routes = [
            (Route(e.path, _never, methods=[e.method], include_in_schema=False), e)
            for e in endpoints
        ]
        # tried by method: a read is matched against the hot reads only
        self.by_method: dict[str, list[tuple[Route, Endpoint]]] = {}
        for route, endpoint in self.routes:
            self.by_method.setdefault(endpoint.method, []).append((route, endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route, endpoint in self.by_method.get(scope["method"], ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    scope["route"] = route  # its template labels the request's metrics
                    response = await serve(endpoint, Request(scope, receive, send))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _never(_request: Request) -> Response:
    raise AssertionError("matched by FastPath, which serves the endpoint itself")
