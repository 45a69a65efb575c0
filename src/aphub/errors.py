"""RFC 9457 problem details: one exception family, rendered the same from every layer."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"  # relative reference, resolved against the hub (RFC 9457 §3.1.1)

_TITLES = {
    400: "Bad request",
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorised",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


class FieldError(dict[str, str]):
    """One entry of a validation problem's `errors`: `{field, message}`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field=field, message=message)


class Problem(Exception):
    """Base of every error the hub reports; carries what the problem document says."""

    status = 500
    slug: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        if status is not None:
            self.status = status
        self.detail = detail
        self.type_slug = slug or self.slug or _SLUGS.get(self.status, "error")
        self.title = title or _TITLES.get(self.status, "Error")
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.type_slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        if self.errors is not None:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


class Invalid(Problem):
    status = 422

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        return cls(message, errors=[FieldError(field, message)])


class Unauthorised(Problem):
    status = 401

    def __init__(self, detail: str, *, error: str = "invalid_token") -> None:
        challenge = f'Bearer realm="aphub", error="{error}", error_description="{detail}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(Problem):
    status = 403


class NotFound(Problem):
    status = 404

    def __init__(self, detail: str = "No such resource, or not visible to you") -> None:
        super().__init__(detail)


class Conflict(Problem):
    status = 409


class PreconditionFailed(Problem):
    status = 412


class PayloadTooLarge(Problem):
    status = 413


class UnsupportedMediaType(Problem):
    status = 415


class RateLimited(Problem):
    status = 429

    def __init__(self, detail: str, *, headers: Mapping[str, str], quota: Any = None) -> None:
        super().__init__(detail, headers=headers)
        self.quota = quota  # where the client stands: its RateLimit headers


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    return Response(
        orjson.dumps(problem.body(instance)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def internal_error() -> Problem:
    """What a client learns of an unexpected failure: that it happened, nothing more."""
    return Problem("The hub could not complete the request; it has been logged.")


# PostgreSQL data exceptions caused by what the client sent, not by the hub: text holding
# NUL (which PostgreSQL cannot store), or characters the database encoding cannot represent.
_INPUT_SQLSTATES = {"22021", "22P05"}


def database_input_problem(exc: BaseException) -> Invalid | None:
    """The 422 for a database error the request's own values caused, else None: raised
    through SQLAlchemy (a `DBAPIError`) or by asyncpg itself (the statement paths)."""
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    elif isinstance(exc, asyncpg.PostgresError):
        sqlstate = exc.sqlstate
    else:
        return None
    if sqlstate not in _INPUT_SQLSTATES:
        return None
    return Invalid(
        "The request holds text the hub cannot store (for example a NUL character)",
        errors=[FieldError("body", "text must not contain NUL or unrepresentable characters")],
    )


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> Invalid:
    fields = []
    for err in errors:
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            # its location is an offset into the text, not a field
            fields.append(FieldError("body", message))
            continue
        # pydantic prefixes messages raised by our validators; the DfE wording stands alone
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        fields.append(FieldError(_field_path(err.get("loc", ())), message))
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:3])
    return Invalid(f"The request is not valid: {summary}", errors=fields)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (asked of the routes themselves, so
    routes of included routers count as well)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        replay = getattr(exc, "replay", None)  # an idempotent retry answered from the store
        if isinstance(replay, Response):
            return replay
        return problem_response(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc.errors()), request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource, or not visible to you"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route matching the path; list every method
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not accepted here; use {' or '.join(allowed)}"
        problem = Problem(detail, status=exc.status_code, headers=headers)
        return problem_response(problem, request.url.path)

    async def on_database_error(request: Request, exc: Exception) -> Response:
        problem = database_input_problem(exc)
        if problem is None:
            raise exc  # a fault of the hub's: HubMiddleware answers it as any unhandled error
        return problem_response(problem, request.url.path)

    async def on_unhandled(request: Request, exc: Exception) -> Response:
        # The answer only: FastAPI's outermost layer sends it and raises the error on, to
        # HubMiddleware (outside FastAPI's stack), which logs it once
        return problem_response(internal_error(), request.url.path)

    app.add_exception_handler(Exception, on_unhandled)
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(asyncpg.PostgresError, on_database_error)


# Headers that come with some problems, as OpenAPI documents them.
_PROBLEM_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    401: {
        "WWW-Authenticate": {
            "description": 'RFC 6750 challenge: `Bearer realm="aphub", error=...`',
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the client may retry",
            "schema": {"type": "integer"},
        },
        "RateLimit": {
            "description": 'The client\'s quota left, `"default";r=0;t=SECONDS`',
            "schema": {"type": "string"},
        },
        "RateLimit-Policy": {
            "description": 'The quota, `"default";q=REQUESTS;w=60`',
            "schema": {"type": "string"},
        },
    },
    503: {
        "Retry-After": {
            "description": "Seconds until the hub expects to answer again",
            "schema": {"type": "integer"},
        }
    },
}
# Problem types a status may carry besides its own (`/problems/{slug}` describes each).
_MORE_SLUGS = {400: ("unknown-parameter",)}


def problem_types(status: int) -> list[str]:
    return [
        PROBLEM_BASE + _SLUGS.get(status, "error"),
        *(PROBLEM_BASE + s for s in _MORE_SLUGS.get(status, ())),
    ]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the problem documents a route may return:
    the problem schema, the problem types each status carries, and its headers."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        types = ", ".join(f"`{t}`" for t in problem_types(status))
        response: dict[str, Any] = {
            "description": f"{_TITLES.get(status, 'Error')}: a problem document of type {types}",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status in _PROBLEM_HEADERS:
            response["headers"] = _PROBLEM_HEADERS[status]
        responses[status] = response
    return responses
