"""Serving one request of an endpoint, the same way whichever route received it.

Authentication (one rate-limit count), the request's parameters, the unit the handler's
signature asks for (one transaction for a write, with the Idempotency-Key claimed in it
on a POST), the handler, and the answer; every failure becomes a problem document here,
so no error leaves the endpoint for the server to drop the connection over.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import orjson
from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import Response

from aphub import idempotency
from aphub.api.endpoint import Endpoint
from aphub.api.requests import NoParams, parse_body, parse_path, parse_query
from aphub.auth.principal import Principal, bearer_token, principal_from_token
from aphub.db import Database
from aphub.errors import (
    Problem,
    Unauthorised,
    database_input_problem,
    internal_error,
    problem_response,
)
from aphub.http import parse_if_match

log = logging.getLogger("aphub.errors")


async def authenticate(request: Request, scope: str | None) -> Principal:
    """The caller, from its bearer token: 401 without one, 403 without `scope`. The one
    place a request is counted against its client's rate limit."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthorised("An access token is required", error="invalid_request")
    principal = await principal_from_token(request, token)
    if scope is not None:
        principal.require(scope)
    return principal


async def _optional_principal(request: Request) -> Principal | None:
    token = bearer_token(request.headers.get("authorization"))
    return await principal_from_token(request, token) if token else None


@cache
def _adapter(response: Any) -> TypeAdapter[Any]:
    return TypeAdapter(response)


_NEXT_CURSOR = b'"next_cursor"'


def _next_cursor(result: Any, response: Response) -> str | None:
    """The page's `next_cursor`: from the handler's data, or read from the end of JSON
    that PostgreSQL built (the member comes last; a cursor is base64url, never escaped)."""
    if isinstance(result, dict):
        value = result.get("next_cursor")
        return value if isinstance(value, str) else None
    if not isinstance(result, Response):
        value = getattr(result, "next_cursor", None)
        return value if isinstance(value, str) else None
    body = bytes(getattr(response, "body", b""))
    at = body.rfind(_NEXT_CURSOR)
    if at < 0:
        return None
    rest = body[at + len(_NEXT_CURSOR) :].lstrip(b" :")
    if not rest.startswith(b'"'):
        return None  # null: the last page
    end = rest.find(b'"', 1)
    return rest[1:end].decode() if end > 0 else None


def link_next(endpoint: Endpoint, request: Request, result: Any, response: Response) -> None:
    """RFC 8288 `Link: <...>; rel="next"` on a page that has a next one: the request's own
    URL with the cursor of the next page (relative, so it holds behind any proxy)."""
    parameter = endpoint.cursor_parameter
    if parameter is None or response.status_code != 200:
        return
    cursor = _next_cursor(result, response)
    if cursor:
        url = request.url.include_query_params(**{parameter: cursor})
        response.headers.append("Link", f'<{url.path}?{url.query}>; rel="next"')


def answer(endpoint: Endpoint, result: Any) -> Response:
    """The handler's result as the endpoint's answer: a response it built itself (JSON
    from PostgreSQL), nothing (204), or data serialised as the endpoint's response type."""
    if isinstance(result, Response):
        return result
    if result is None and endpoint.status == 204:
        return Response(status_code=204)
    if endpoint.response is None:
        body = orjson.dumps(result)
    else:
        adapter = _adapter(endpoint.response)
        body = adapter.dump_json(adapter.validate_python(result, from_attributes=True))
    return Response(body, status_code=endpoint.status, media_type="application/json")


async def _arguments(endpoint: Endpoint, request: Request, raw: bytes) -> dict[str, Any]:
    signature = endpoint.signature
    kwargs: dict[str, Any] = {}
    if signature.path:
        kwargs.update(parse_path(signature.path, request.path_params))
    if signature.query is not None:
        kwargs["query"] = parse_query(signature.query, request.query_params)
    elif request.scope.get("query_string"):  # (parsed only when there is one)
        parse_query(NoParams, request.query_params)  # refuses any name
    if signature.body is not None:
        kwargs["body"] = parse_body(signature.body, raw)
    if signature.if_match:
        kwargs["if_match"] = parse_if_match(request.headers.get("if-match"))
    if signature.request:
        kwargs["request"] = request
    return kwargs


async def serve(endpoint: Endpoint, request: Request) -> Response:
    try:
        return await _serve(endpoint, request)
    except Problem as problem:
        replay = getattr(problem, "replay", None)  # an idempotent retry answered from the store
        if isinstance(replay, Response):
            return replay
        return problem_response(problem, request.url.path)
    except Exception as exc:
        refused = database_input_problem(exc)
        if refused is not None:
            return problem_response(refused, request.url.path)
        log.error("unhandled error", exc_info=exc)
        return problem_response(internal_error(), request.url.path)


async def _serve(endpoint: Endpoint, request: Request) -> Response:
    signature = endpoint.signature
    principal: Principal | None
    if endpoint.public:
        principal = await _optional_principal(request) if signature.principal else None
    else:
        principal = await authenticate(request, endpoint.scope)
    key = None
    if endpoint.idempotent:
        key = idempotency.checked_key(request.headers.get(idempotency.HEADER))
    raw = await request.body() if signature.body is not None or key is not None else b""
    kwargs = await _arguments(endpoint, request, raw)
    if signature.principal:
        kwargs["principal"] = principal
    database: Database = request.app.state.db
    if signature.unit is None:
        return answer(endpoint, await endpoint.handler(**kwargs))
    client = principal.client_id if principal is not None else None
    if not endpoint.writes:
        async with database.reading(client) as reading:
            kwargs["unit"] = reading
            result = await endpoint.handler(**kwargs)
        response = answer(endpoint, result)
        link_next(endpoint, request, result, response)
        return response
    async with database.writing(client) as unit:
        if key is not None and principal is not None:
            digest = idempotency.request_hash(request.method, request.url.path, raw)
            unit.claim_idempotency_key(idempotency.KeyClaim(principal.client_id, key, digest))
        kwargs["unit"] = unit
        response = answer(endpoint, await endpoint.handler(**kwargs))
        unit.keep_response(response.status_code, bytes(response.body), response.headers)
    return response


def respond(
    data: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    model: Any = None,
) -> Response:
    """JSON for a handler that answers with headers of its own (an ETag, a Location): a
    pydantic model as it serialises itself, other data as `model` (when given) or as is."""
    if hasattr(data, "model_dump_json"):
        body: bytes | str = data.model_dump_json()
    elif model is not None:
        adapter = _adapter(model)
        body = adapter.dump_json(adapter.validate_python(data, from_attributes=True))
    else:
        body = orjson.dumps(data)
    return Response(body, status_code=status, media_type="application/json", headers=headers)
