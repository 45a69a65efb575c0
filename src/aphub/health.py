"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.requests import Request

from aphub.api.endpoint import Endpoint
from aphub.db import Database
from aphub.errors import Problem, problem_response
from aphub.migrate import current_revisions, head_revisions


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Ready(BaseModel):
    status: str = Field(examples=["ok"])
    revision: str = Field(description="The database's migration revision")


async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def readyz(request: Request) -> Response:
    database: Database = request.app.state.db
    if not await database.ping():
        return _unavailable("The database is unreachable", database="unreachable")
    current, heads = await current_revisions(database), head_revisions()
    revision, expected = ", ".join(sorted(current)), ", ".join(sorted(heads))
    if current != heads:
        return _unavailable(
            f"The database is at revision {revision or 'none'}, not {expected}: "
            "run `aphub migrate`",
            database="not migrated",
            revision=revision,
            expected=expected,
        )
    return JSONResponse({"status": "ok", "revision": revision})


def _unavailable(detail: str, **extra: str) -> Response:
    # a problem document like every other error; `database` says which check failed
    return problem_response(Problem(detail, status=503, extra=extra), "/readyz")


ENDPOINTS = [
    Endpoint(
        "GET",
        "/healthz",
        healthz,
        "The process is up",
        public=True,
        response=Health,
        tags=("ops",),
    ),
    Endpoint(
        "GET",
        "/readyz",
        readyz,
        "The database is reachable and migrated to the code's revision",
        public=True,
        response=Ready,
        errors=(503,),
        tags=("ops",),
    ),
]
