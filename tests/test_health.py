"""Liveness and readiness probes, without authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.main import create_app
from aphub.migrate import head_revisions
from tests.conftest import with_database


@asynccontextmanager
async def probe(settings: Settings, url: str) -> AsyncIterator[httpx.AsyncClient]:
    database = Database(url, settings)
    app: FastAPI = create_app(settings, database=database)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client
    finally:
        await database.dispose()


async def test_healthz_is_200_without_a_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")

    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_is_200_with_the_revision_when_migrated(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["revision"]
    assert set(body["revision"].split(", ")) == head_revisions()


async def test_readyz_is_503_problem_when_the_database_is_not_migrated(
    settings: Settings, superuser_dsn: str
) -> None:
    unmigrated = async_url(with_database(superuser_dsn, "postgres"))

    async with probe(settings, unmigrated) as client:
        r = await client.get("/readyz")

    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 503
    assert body["database"] == "not migrated"
    assert "aphub migrate" in body["detail"]


async def test_readyz_is_503_problem_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"

    async with probe(settings, unreachable) as client:
        r = await client.get("/readyz")

    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["database"] == "unreachable"
