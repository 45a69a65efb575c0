"""Dashboard statistics over REST: who may read them (dashboards; LAs for their own area),
filters refused as problems rather than ignored, each dimension's answer over a fixture
whose counts are known, and the demo dashboard reading every table."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.demo import load_demo
from aphub.models import Organisation
from aphub.statistics.dimensions import Dimension
from tests.factories import auth, make_org, register_client, token_for
from tests.test_statistics_disclosure import YEAR, World, make_world


async def table(
    client: httpx.AsyncClient, headers: dict[str, str], dimension: str, **params: str
) -> dict[str, Any]:
    r = await client.get(f"/v1/statistics/{dimension}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def counts(answer: dict[str, Any]) -> dict[str, int | None]:
    return {c["category"]: c["count"] for c in answer["cells"]}


@pytest.fixture
async def world(db: Database, superuser: asyncpg.Connection) -> World:
    return await make_world(db, superuser)


async def test_statistics_refuse_unknown_and_malformed_filters(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> None:
    headers = auth(token_for(app, world.orgs["dashboard"]))
    r = await client.get("/v1/statistics/reason?provider_id=x", headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "provider_id"
    r = await client.get("/v1/statistics?period=2025/26", headers=headers)
    assert r.status_code == 400, r.text
    for period in ("2025-13", "2025/27", "last year", "1999/00", "2099/00", "2099-01"):
        r = await client.get("/v1/statistics/reason", params={"period": period}, headers=headers)
        assert r.status_code == 422, (period, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    for la in ("20", "2020", "abc"):
        r = await client.get(f"/v1/statistics/reason?local_authority={la}", headers=headers)
        assert r.status_code == 422, r.text
    r = await client.get("/v1/statistics/reason?local_authority=999", headers=headers)
    assert r.status_code == 404, r.text
    r = await client.get("/v1/statistics/colour", headers=headers)
    assert r.status_code == 422, r.text


async def test_statistics_are_for_dashboards_and_local_authorities_in_their_own_area(
    client: httpx.AsyncClient, app: FastAPI, db: Database, world: World
) -> None:
    for kind in ("school", "trust", "provider", "health", "social_care", "operator"):
        org = await make_org(db, kind)
        headers = auth(token_for(app, org, ["reports:read"] if kind == "trust" else None))
        for path in ("/v1/statistics", "/v1/statistics/reason"):
            r = await client.get(path, headers=headers)
            assert r.status_code == 403, (kind, r.text)
    # a dashboard client without reports:read
    headers = auth(token_for(app, world.orgs["dashboard"], ["providers:read"]))
    assert (await client.get("/v1/statistics/reason", headers=headers)).status_code == 403

    la_a = auth(token_for(app, world.orgs["la_a"]))
    r = await client.get("/v1/statistics/reason?local_authority=203", headers=la_a)
    assert r.status_code == 403, r.text
    own = await table(client, la_a, "reason", period=YEAR)
    assert own["local_authority"]["la_code"] == "202"
    assert own == {
        **await table(client, la_a, "reason", period=YEAR, local_authority="202"),
        "computed_at": own["computed_at"],
    }
    dashboard = auth(token_for(app, world.orgs["dashboard"]))
    sliced = await table(client, dashboard, "reason", period=YEAR, local_authority="202")
    assert sliced["cells"] == own["cells"]
    assert sliced["total"] == own["total"]


async def test_each_dimension_counts_every_child_once_in_its_categories(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> None:
    """57 children (22 in LA 202, 35 in LA 203), all year 10, no SEN, placed with a PRU
    on 1 October 2024 and still there, no attendance returned."""
    headers = auth(token_for(app, world.orgs["dashboard"]))
    expected: dict[str, dict[str, int | None]] = {
        "local_authority": {"202": 20, "203": 35},
        "registration": {"registered": 55, "unregistered": 0, "unknown": 0},
        "provider_type": {"pru": 55, "unregistered": 0},
        "sen_provision": {"none": 55, "ehcp": 0},
        "year_group": {"10": 55, "11": 0, "unknown": 0},
        "attendance_band": {"no_sessions_recorded": 55, "under_50": 0},
        "destination": {"in_placement": 55, "neet": 0},
        "month": {"before_period": 0, "2024-10": 55, "2025-08": 0},
    }
    for dimension in Dimension:
        answer = await table(client, headers, dimension, period=YEAR)
        assert answer["period"] == {"label": YEAR, "start": "2024-09-01", "end": "2025-08-31"}
        assert answer["total"] == {"count": 55, "suppressed": False}
        assert answer["definition"]
        assert answer["disclosure_control"]["source"]
        shown = counts(answer)
        for category, count in expected.get(dimension, {}).items():
            assert shown[category] == count, (dimension, category, shown)
    month = await table(client, headers, "month", period="2024-11")
    assert counts(month) == {"before_period": 55, "2024-11": 0}
    earlier = await table(client, headers, "reason", period="2024-09")
    assert earlier["total"] == {"count": 0, "suppressed": False}

    r = await client.get("/v1/statistics", headers=headers)
    assert r.status_code == 200
    assert [d["dimension"] for d in r.json()["items"]] == [d.value for d in Dimension]


async def test_the_demo_dashboard_reads_every_table(
    client: httpx.AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    assert await load_demo(db, settings, only_if_empty=True)
    async with db.reading() as unit:
        row = await unit.fetchrow("SELECT id FROM organisations WHERE type = 'dashboard'")
    dashboard = Organisation(id=row["id"], type="dashboard", name="AP Insight Dashboard")
    await register_client(db, dashboard)
    headers = auth(token_for(app, dashboard))
    for dimension in Dimension:
        answer = await table(client, headers, dimension)
        for figure in (answer["total"], *answer["cells"]):
            assert figure["count"] is None or figure["count"] % 5 == 0, (dimension, figure)
