"""The application: routers, middleware, errors, docs and GraphQL assembled in one place."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from aphub import __version__, jobs, metrics
from aphub.api.endpoint import Endpoint
from aphub.api.routes import FastPath, install
from aphub.api.table import ENDPOINTS
from aphub.auth.clients import ClientRecords
from aphub.auth.external import ExternalTokens
from aphub.auth.issuers import load_issuers
from aphub.auth.jwks import JwksCache
from aphub.auth.keys import KeyRing
from aphub.auth.rate_limit import RateLimiter
from aphub.auth.tokens import TokenService
from aphub.config import Settings, get_settings
from aphub.db import Database, resolve_database_url, resolve_migration_url
from aphub.docs import mount_docs
from aphub.errors import PROBLEM_JSON, install_error_handlers, problem_responses
from aphub.graphql.schema import graphql_router
from aphub.middleware import HubMiddleware
from aphub.migrate import migrate
from aphub.sharing.policy import activate, load_policy
from aphub.tracing import configure_tracing
from aphub.webhooks.guard import Allowlist, Guard

log = logging.getLogger(__name__)

TITLE = "aphub"
DESCRIPTION = (
    "The shared data hub for alternative provision in England: provider directory, child "
    "passports, placements, attendance, outcomes and oversight, with information sharing "
    "enforced by the hub. Errors are RFC 9457 problem documents; lists are cursor-paginated."
)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": (
        f"RFC 9457 problem details ({PROBLEM_JSON}), the body of every error. `type` names "
        "the kind of problem: GET it (`/problems/{slug}`) for what it means. Members beyond "
        "the standard ones carry the problem's own facts (a 409's `current_status`)."
    ),
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": "The problem type, relative to the hub",
            "examples": ["/problems/not-found"],
        },
        "title": {"type": "string", "description": "The type's short, fixed summary"},
        "status": {"type": "integer", "description": "The HTTP status code"},
        "detail": {"type": "string", "description": "What went wrong with this request"},
        "instance": {"type": "string", "description": "The path the request was for"},
        "errors": {
            "type": "array",
            "description": "For a validation problem: each field refused and why",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}


def _operation_id(route: APIRoute) -> str:
    # Stable ids: the handler's name, which the code review keeps unique and meaningful.
    return route.name


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    # One schema per model, whether it is read or written: pydantic's separate input and
    # output schemas (`Funding-Input`, `Funding-Output`) clash in generated clients.
    schema = get_openapi(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        routes=app.routes,
        separate_input_output_schemas=False,
    )
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    _document_common_problems(schema)
    app.openapi_schema = schema
    return schema


_BODY_METHODS = {"post", "put", "patch"}
_METHODS = _BODY_METHODS | {"get", "delete", "head", "options", "trace"}
_FASTAPI_VALIDATION_REF = "#/components/schemas/HTTPValidationError"


def _common_problems(method: str, operation: dict[str, Any]) -> set[int]:
    """What any operation shaped like this can answer, whoever wrote its route: the
    middleware, the auth dependency and the validation layer apply to every one."""
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.add(400)  # a body that cannot be read at all (not UTF-8, say)
    if method in _BODY_METHODS:
        statuses |= {413, 415}
    for requirement in operation.get("security", []):
        statuses |= {401, 429}
        if any(requirement.values()):
            statuses.add(403)
    return statuses


def _document_common_problems(schema: dict[str, Any]) -> None:
    """Document the problem responses every operation can give, in place of FastAPI's
    default 422 (whose body is not what the hub sends)."""
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _common_problems(method, operation):
                existing = responses.get(str(status))
                if existing is None or _FASTAPI_VALIDATION_REF in json.dumps(existing):
                    responses[str(status)] = problem_responses(status)[status]
            operation["responses"] = dict(sorted(responses.items()))
    if _FASTAPI_VALIDATION_REF not in json.dumps(schema):
        schemas = schema.get("components", {}).get("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def outbound_http(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The client the hub fetches keys and exchanges sign-in codes with: short timeouts,
    no redirects followed (a key set or a token answer is where it was configured)."""
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(5.0),
        follow_redirects=False,
        headers={"User-Agent": f"aphub/{__version__}"},
    )


class HubApp(FastAPI):
    """FastAPI, with the hub's own middleware outside FastAPI's stack: `HubMiddleware`
    (request id, body limits, metrics, the answer to an unhandled error) first, then
    `FastPath`, which serves a hot endpoint at once; every other request goes on through
    FastAPI's middleware, exception handlers and router. A hot request so passes through
    two layers rather than seven (each an await on every suspension of the request)."""

    hot: Sequence[Endpoint] = ()
    hub_middleware: dict[str, Any] = {}
    # OpenTelemetry's instrumentation needs FastAPI's stack outermost: when traced, the
    # hub's middleware goes inside it, first of the user middleware (as it used to)
    traced = False

    def build_middleware_stack(self) -> ASGIApp:
        if not self.traced:
            inner = super().build_middleware_stack()
            return HubMiddleware(FastPath(inner, self.hot), **self.hub_middleware)
        own = [
            Middleware(HubMiddleware, **self.hub_middleware),
            Middleware(FastPath, endpoints=self.hot),
        ]
        others, self.user_middleware = self.user_middleware, [*own, *self.user_middleware]
        try:
            return super().build_middleware_stack()
        finally:
            self.user_middleware = others


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    # An invalid sharing policy, or issuers' configuration, stops the hub here, before it
    # serves a single request.
    activate(load_policy(settings.sharing_policy))
    issuers = load_issuers(settings.oidc_issuers, own_issuer=settings.issuer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned: Database | None = None
        if getattr(app.state, "db", None) is None:
            if settings.migrate_on_start:
                await migrate(resolve_migration_url(settings))
            owned = app.state.db = Database(resolve_database_url(settings), settings)
            await owned.check_roles()
        # events a previous process committed but did not live to seal
        await app.state.db.seal_events()
        job = jobs.start(app.state.db, settings) if settings.jobs else []
        if metrics.MULTIPROCESS:
            job.append(asyncio.create_task(metrics.refresh_pools_forever(app.state.db)))
        yield
        if job is not None:
            await jobs.stop(job)
        await app.state.http.aclose()
        await app.state.rate_limiter.close()
        if owned is not None:
            await owned.dispose()

    app = HubApp(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # no OpenTelemetry here: without this, FastAPI asks on every request whether a
        # tracer, meter or logger provider has been configured since
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = database
    app.state.tokens = TokenService(
        KeyRing(settings.data_dir),
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_seconds=settings.token_ttl_seconds,
    )
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.clients = ClientRecords()
    app.state.http = outbound_http(http_transport)
    app.state.jwks = JwksCache(app.state.http)
    app.state.external = ExternalTokens(issuers, app.state.jwks)
    app.state.webhook_guard = Guard(Allowlist.parse(settings.webhook_allowlist))
    install_error_handlers(app)
    app.add_api_route(
        "/metrics", metrics.metrics_endpoint, methods=["GET"], include_in_schema=False
    )
    hot = install(app, ENDPOINTS)
    app.include_router(graphql_router(settings), prefix="/graphql", include_in_schema=False)
    mount_docs(app, title=TITLE)
    app.hot = hot
    app.hub_middleware = {
        "max_body_bytes": settings.max_body_bytes,
        "path_limits": {"/v1/attendance": settings.attendance_max_body_bytes},
        "observe": settings.metrics,
    }
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    configure_tracing(app)  # only when the OTEL_* variables ask for it
    # Everything built so far lives as long as the process: move it out of the collector's
    # reach, so collections during requests (bulk returns allocate a lot) scan only what
    # requests create.
    gc.freeze()
    return app
