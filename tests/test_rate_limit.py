"""The per-client rate limit: its headers on every answer to an authenticated request, and
one limit across every worker and instance, counted once, through the database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.auth.rate_limit import RateLimiter
from aphub.config import Settings
from aphub.db import Database
from aphub.errors import RateLimited
from aphub.main import create_app
from aphub.models import Organisation
from tests.factories import auth, make_org, token_for

LIMIT = 10
STATE = re.compile(r'^"default";r=(\d+);t=(\d+)$')


def _remaining(response: httpx.Response) -> int:
    match = STATE.match(response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    assert 1 <= int(match[2]) <= 60
    return int(match[1])


@pytest.fixture
async def instances(
    settings: Settings, database: Database, clean_db: None
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two hubs (as two instances would be) on one database, each with its own limiter,
    allowing LIMIT requests a minute per client."""
    limited = settings.model_copy(update={"rate_limit_per_minute": LIMIT})
    apps = (create_app(limited, database=database), create_app(limited, database=database))
    for app in apps:  # a fifth of a second between reconciliations, to keep the test short
        app.state.rate_limiter = RateLimiter(LIMIT, sync_seconds=0.2)
    yield apps
    for app in apps:
        await app.state.rate_limiter.close()


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


async def test_every_authenticated_answer_says_where_the_client_stands(
    instances: tuple[FastAPI, FastAPI], db: Database
) -> None:
    app, _ = instances
    headers = auth(token_for(app, await make_org(db, "operator")))

    async with _client(app) as hub:
        ok = await hub.get("/v1/organisations", headers=headers)
        missing = await hub.get("/v1/organisations/not-a-uuid", headers=headers)
        anonymous = await hub.get("/healthz")

    assert ok.status_code == 200
    assert ok.headers["ratelimit-policy"] == f'"default";q={LIMIT};w=60'
    assert _remaining(ok) == LIMIT - 1
    assert missing.status_code == 422  # errors too carry the headers
    assert _remaining(missing) == LIMIT - 2
    assert "ratelimit" not in anonymous.headers  # no client, no quota


async def test_two_instances_share_one_limit_counted_once(
    instances: tuple[FastAPI, FastAPI], db: Database, superuser: asyncpg.Connection
) -> None:
    first, second = instances
    operator: Organisation = await make_org(db, "operator")
    headers = auth(token_for(first, operator))
    client_id = f"test-{operator.id.hex}"

    async with _client(first) as a, _client(second) as b:
        for _ in range(6):
            assert (await a.get("/v1/organisations", headers=headers)).status_code == 200
        await first.state.rate_limiter.settled()
        stored = "SELECT sum(count) FROM rate_limit_counts WHERE client_id = $1"
        assert await superuser.fetchval(stored, client_id) == 6

        # the second instance counts locally, then learns the first's six within a sync
        r = await b.get("/v1/organisations", headers=headers)
        assert r.status_code == 200
        await second.state.rate_limiter.settled()
        statuses = [(await b.get("/v1/organisations", headers=headers)).status_code]
        while statuses[-1] == 200 and len(statuses) < LIMIT:
            statuses.append((await b.get("/v1/organisations", headers=headers)).status_code)
        await second.state.rate_limiter.settled()
        # the first instance's view is more than a reconciliation old: refreshed first
        refused_on_a = await a.get("/v1/organisations", headers=headers)
        await first.state.rate_limiter.settled()
        await second.state.rate_limiter.settled()

    assert statuses == [200, 200, 200, 429]  # 6 + 1 + 3 = the limit, across both
    assert _remaining(r) == 3  # its first answer knew only of the second instance's own
    assert refused_on_a.status_code == 429  # the first has heard of the second's
    assert int(refused_on_a.headers["retry-after"]) >= 1
    # each admitted request was added to the shared count once; refusals are not counted
    assert await superuser.fetchval(stored, client_id) == LIMIT


async def test_requests_are_added_to_the_shared_count_in_batches_not_one_write_each(
    settings: Settings, database: Database, db: Database, superuser: asyncpg.Connection
) -> None:
    app = create_app(settings, database=database)
    app.state.rate_limiter = limiter = RateLimiter(1000, sync_seconds=3600)
    operator = await make_org(db, "operator")
    headers = auth(token_for(app, operator))

    async with _client(app) as hub:
        with database.observing() as statements:
            for _ in range(20):
                assert (await hub.get("/v1/organisations", headers=headers)).status_code == 200
        reconciled = [s for s in statements if s.startswith("INSERT INTO rate_limit_counts")]
        with database.observing() as statements:
            await limiter._sync(database, set())  # what the background does a second later
        added = [s for s in statements if s.startswith("INSERT INTO rate_limit_counts")]
    await limiter.close()

    assert len(reconciled) == 1  # the first request learnt the hub-wide count; no more
    assert len(added) == 1
    stored = "SELECT count FROM rate_limit_counts WHERE client_id = $1"
    assert await superuser.fetchval(stored, f"test-{operator.id.hex}") == 20


async def test_a_worker_that_cannot_reach_the_database_still_holds_the_limit_itself() -> None:
    limiter = RateLimiter(3)

    quotas = [(await limiter.check("client", None, now=120.0)).remaining for _ in range(3)]

    assert quotas == [2, 1, 0]
    with pytest.raises(RateLimited):
        await limiter.check("client", None, now=121.0)
    # a new window starts from nothing
    assert (await limiter.check("client", None, now=180.0)).remaining == 2
