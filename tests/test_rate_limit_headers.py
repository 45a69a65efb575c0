"""`RateLimit` and `RateLimit-Policy` on every answer to an authenticated request: every
operation in the committed contract, GraphQL and `/metrics`, whatever the answer (a page,
a 404, a 422, a 403 for a missing scope, a 429), so a client can pace itself from any
response it gets. Requests that name no client (health, JWKS, problem types, the token
endpoint, a token that does not verify) have no quota to report."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.main import create_app
from tests.factories import auth, make_org, token_for

CONTRACT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
LIMIT = 1_000_000
POLICY = f'"default";q={LIMIT};w=60'
STATE = re.compile(r'^"default";r=\d+;t=\d+$')
METHODS = ("get", "post", "put", "patch", "delete")


def _operations() -> list[tuple[str, str, bool]]:
    """(method, path with made-up ids, whether the operation asks for a token)."""
    spec = json.loads(CONTRACT.read_text())
    found = []
    for template, item in spec["paths"].items():
        path = re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), template)
        for method in METHODS:
            if method in item:
                found.append((method.upper(), path, bool(item[method].get("security"))))
    return found


@pytest.fixture
def limited(settings: Settings, database: Database, clean_db: None) -> FastAPI:
    return create_app(
        settings.model_copy(update={"rate_limit_per_minute": LIMIT}), database=database
    )


def _missing_headers(response: httpx.Response) -> bool:
    return response.headers.get("ratelimit-policy") != POLICY or not STATE.match(
        response.headers.get("ratelimit", "")
    )


async def test_every_answer_to_an_authenticated_request_carries_the_rate_limit_headers(
    limited: FastAPI, db: Database
) -> None:
    operations = _operations()
    assert len(operations) > 50  # the contract was read
    callers = [
        auth(token_for(limited, await make_org(db, kind)))
        for kind in ("local_authority", "provider", "operator")
    ]
    statuses: Counter[int] = Counter()
    without: list[str] = []
    public: list[str] = []

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited), base_url="http://hub"
    ) as hub:
        for headers in callers:
            for method, path, secured in operations:
                body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
                r = await hub.request(method, path, headers=headers, **body)
                statuses[r.status_code] += 1
                if secured and _missing_headers(r):
                    without.append(f"{method} {path} -> {r.status_code}")
                if not secured:
                    public.append(path)
            for extra in (
                await hub.post("/graphql", json={"query": "{ __typename }"}, headers=headers),
                await hub.post("/graphql", json={"query": "{ nosuchfield }"}, headers=headers),
                await hub.get("/metrics", headers=headers),  # 200 or 403: answered either way
            ):
                statuses[extra.status_code] += 1
                if _missing_headers(extra):
                    without.append(f"{extra.request.method} {extra.request.url.path}")
        anonymous = await hub.get("/v1/organisations")
        forged = await hub.get("/v1/organisations", headers=auth("not-a-token"))

    assert without == []
    # the answers were of every kind: pages, refusals, unknown ids, invalid bodies
    assert {200, 403, 404, 422} <= set(statuses), statuses
    assert not [status for status in statuses if status >= 500], statuses
    assert "/healthz" in public
    assert "/v1/oauth/token" in public
    # no client, no quota: nothing to say, and nothing counted against anyone
    for unnamed in (anonymous, forged):
        assert unnamed.status_code == 401
        assert "ratelimit" not in unnamed.headers


async def test_a_refusal_carries_them_too(
    settings: Settings, database: Database, db: Database, clean_db: None
) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 1}), database=database)
    headers = auth(token_for(app, await make_org(db, "local_authority")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://h") as c:
        first = await c.get("/v1/organisations", headers=headers)
        refused = await c.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    await app.state.rate_limiter.close()

    assert first.status_code == 200
    assert first.headers["ratelimit"].startswith('"default";r=0;')
    assert refused.status_code == 429
    assert refused.headers["ratelimit-policy"] == '"default";q=1;w=60'
    assert refused.headers["ratelimit"].startswith('"default";r=0;')
    assert int(refused.headers["retry-after"]) >= 1
