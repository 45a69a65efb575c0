"""The application: routers, middleware, errors, docs and GraphQL assembled in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from aphub import __version__
from aphub.auth.keys import load_or_create_signing_key
from aphub.auth.principal import RateLimiter
from aphub.auth.routes import router as auth_router
from aphub.auth.tokens import TokenService
from aphub.children.routes import router as children_router
from aphub.config import Settings, get_settings
from aphub.db import Database, resolve_database_url
from aphub.docs import mount_docs
from aphub.errors import PROBLEM_JSON, install_error_handlers
from aphub.graphql.schema import graphql_router
from aphub.health import router as health_router
from aphub.middleware import HubMiddleware
from aphub.migrate import migrate
from aphub.organisations.routes import router as organisations_router
from aphub.problems import router as problems_router
from aphub.sharing.policy import activate, load_policy

log = logging.getLogger(__name__)

TITLE = "aphub"
DESCRIPTION = (
    "The shared data hub for alternative provision in England: provider directory, child "
    "passports, placements, attendance, outcomes and oversight, with information sharing "
    "enforced by the hub. Errors are RFC 9457 problem documents; lists are cursor-paginated."
)

ROUTERS = (
    auth_router,
    health_router,
    problems_router,
    organisations_router,
    children_router,
)


def _operation_id(route: APIRoute) -> str:
    # Stable ids: the handler's name, which the code review keeps unique and meaningful.
    return route.name


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=TITLE, version=__version__, description=DESCRIPTION, routes=app.routes
    )
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
        "type": "object",
        "description": f"RFC 9457 problem details ({PROBLEM_JSON})",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    # An invalid sharing policy stops the hub here, before it serves a single request.
    activate(load_policy(settings.sharing_policy))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned: Database | None = None
        if getattr(app.state, "db", None) is None:
            url = resolve_database_url(settings)
            if settings.migrate_on_start:
                await migrate(url)
            owned = app.state.db = Database(url, settings)
        yield
        if owned is not None:
            await owned.dispose()

    app = FastAPI(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.tokens = TokenService(
        load_or_create_signing_key(settings.data_dir),
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_seconds=settings.token_ttl_seconds,
    )
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(graphql_router(settings), prefix="/graphql", include_in_schema=False)
    mount_docs(app, title=TITLE)
    app.add_middleware(HubMiddleware, max_body_bytes=settings.max_body_bytes)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
