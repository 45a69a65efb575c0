"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from aphub.db import Database
from aphub.migrate import current_revisions, head_revisions

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated to the code's revision",
    responses={503: {"description": "Not ready"}},
)
async def readyz(request: Request) -> JSONResponse:
    database: Database = request.app.state.db
    if not await database.ping():
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    current, heads = await current_revisions(database.engine), head_revisions()
    if current != heads:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "not migrated",
                "revision": ",".join(sorted(current)),
                "expected": ",".join(sorted(heads)),
            },
            503,
        )
    return JSONResponse({"status": "ok", "revision": ",".join(sorted(current))})
