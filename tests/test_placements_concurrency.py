"""Acceptance 2: concurrent clients firing conflicting actions at the same placements lose
no event, duplicate none, never answer 5xx, and leave a chain that verifies."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.events.verify import verify_chain
from aphub.main import create_app
from aphub.models import Child
from aphub.placements import lifecycle, service
from aphub.placements.schemas import OfferAction, PlacementCreate
from tests.placement_factories import Area, complete_plan, make_area, new_key, request_body
from tests.placement_seeds import principal_of

PLACEMENTS = 8
CLIENTS_PER_PLACEMENT = 4  # 32 clients in all, every one at once
FINE = {200, 201, 409, 412, 422}
MOVES = {
    ("requested", "offered"),
    ("requested", "declined"),
    ("requested", "cancelled"),
    ("offered", "active"),
    ("offered", "cancelled"),
    ("active", "ended"),
}
KEEPS_STATUS = {"placement.varied", "placement.reviewed", "placement.end_proposed"}


@pytest.fixture
async def wide_app(
    settings: Settings, database_url: str, database: Database
) -> AsyncIterator[FastAPI]:
    """The hub with a pool big enough for every client at once. The test server allows
    100 connections: the session's own pools (20 + 20) give back their idle ones first,
    whatever the tests before left open."""
    database.reads.expire_idle()
    database.writes.expire_idle()
    wide = Database(database_url, settings.model_copy(update={"db_pool_size": 34}))
    try:
        yield create_app(settings, database=wide)
    finally:
        await wide.dispose()


@pytest.fixture
async def wide_client(wide_app: FastAPI, clean_db: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=wide_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
        yield c


@dataclass(frozen=True)
class Answer:
    placement: int
    actor: str
    action: str
    status: int


Step = Callable[[httpx.AsyncClient, str], Awaitable[tuple[str, httpx.Response]]]


def post(path: str, body: dict[str, Any], headers: dict[str, str], name: str) -> Step:
    async def step(client: httpx.AsyncClient, pid: str) -> tuple[str, httpx.Response]:
        url = f"/v1/placements/{pid}{path}"
        return name, await client.post(url, json=body, headers={**headers, **new_key()})

    return step


def vary_if_match(headers: dict[str, str]) -> Step:
    """Read, then vary against the version read: 412 if another client moved it on."""

    async def step(client: httpx.AsyncClient, pid: str) -> tuple[str, httpx.Response]:
        r = await client.get(f"/v1/placements/{pid}", headers=headers)
        tag = r.headers.get("ETag", '"0"')
        body = {"transport": f"Taxi booked at version {tag}"}
        headers_ = {**headers, "If-Match": tag}
        return "vary-if-match", await client.patch(
            f"/v1/placements/{pid}", json=body, headers=headers_
        )

    return step


def scripts(area: Area, index: int) -> list[tuple[str, list[Step]]]:
    """Four clients per placement. Every placement sees offer race decline (even ones) or
    a second offer (odd ones); every fourth also races a cancel; the rest see starts,
    reviews, varies against a version read a moment ago, and an end."""
    today = date.today()
    review = {
        "held_on": today.isoformat(),
        "attendees": ["child", "provider", "commissioner"],
        "decision": "continue",
        "next_review_date": (today + timedelta(weeks=6)).isoformat(),
    }
    p, la = area.provider_headers, area.la_headers
    end = {"end_reason": "reintegrated", "destination": "reintegrated_home_school"}
    propose = {"reason": "Ready", "proposed_end_date": today.isoformat()}
    decline_or_offer = (
        post("/decline", {"reason": "Full"}, p, "decline")
        if index % 2 == 0
        else post("/offer", {}, p, "offer")
    )
    cancel_or_vary = (
        post("/cancel", {"reason": "School place"}, la, "cancel")
        if index % 4 == 0
        else vary_if_match(la)
    )
    return [
        (
            "provider",
            [
                post("/offer", {}, p, "offer"),
                post("/start", {}, p, "start"),
                post("/reviews", review, p, "review"),
                post("/propose-end", propose, p, "propose-end"),
            ],
        ),
        (
            "provider",
            [
                decline_or_offer,
                post("/start", {}, p, "start"),
                post("/reviews", review, p, "review"),
            ],
        ),
        (
            "commissioner",
            [cancel_or_vary, post("/reviews", review, la, "review"), vary_if_match(la)],
        ),
        (
            "commissioner",
            [
                vary_if_match(la),
                post("/reviews", review, la, "review"),
                post("/end", end, la, "end"),
            ],
        ),
    ]


async def assert_one_history_per_placement(
    superuser: asyncpg.Connection, pids: list[str], answers: list[Answer]
) -> int:
    """Every answer is one a race may give; each placement's events are versions 1..its
    version, walking only allowed moves to its state; the chain is gap-free and holds
    exactly those events. The number of events sealed."""
    final = {
        str(r["id"]): (r["status"], r["version"])
        for r in await superuser.fetch("SELECT id, status, version FROM placements")
    }
    for a in answers:
        if a.status == 404:
            # a provider's access ends when the placement is declined or cancelled
            assert a.actor == "provider", a
            assert final[pids[a.placement]][0] in ("declined", "cancelled"), a
        else:
            assert a.status in FINE, a
    print("\nanswers:", sorted(Counter(a.status for a in answers).items()))
    print("final states:", sorted(Counter(s for s, _ in final.values()).items()))

    for pid in pids:
        status, version = final[pid]
        events = await superuser.fetch(
            "SELECT subject_version, type, data->>'status' AS status FROM events "
            "WHERE subject_type = 'placement' AND subject_id = $1 ORDER BY seq",
            uuid.UUID(pid),
        )
        assert [e["subject_version"] for e in events] == list(range(1, version + 1))
        assert events[-1]["status"] == status
        walk = [e["status"] for e in events]
        assert walk[0] == "requested"
        for before, after, e in zip(walk, walk[1:], events[1:], strict=False):
            if before == after:
                assert e["type"] in KEEPS_STATUS, (pid, e)
            else:
                assert (before, after) in MOVES, (pid, walk)
    seqs = [r["seq"] for r in await superuser.fetch("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))  # gap-free, no duplicate
    assert await superuser.fetchval("SELECT seq FROM event_chain_head") == len(seqs)
    assert sum(v for _, v in final.values()) == len(seqs)
    return len(seqs)


async def run_client(
    client: httpx.AsyncClient, index: int, pid: str, actor: str, steps: list[Step]
) -> list[Answer]:
    answers = []
    for step in steps:
        name, r = await step(client, pid)
        answers.append(Answer(index, actor, name, r.status_code))
        assert r.status_code < 500, r.text
    return answers


async def test_32_clients_racing_on_8_placements_lose_and_duplicate_no_event(
    wide_client: httpx.AsyncClient,
    wide_app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
) -> None:
    area = await make_area(wide_app, db, registration="pru")
    pids = []
    for _ in range(PLACEMENTS):
        r = await wide_client.post(
            "/v1/placements",
            json=request_body(area, **complete_plan(area)),
            headers={**area.la_headers, **new_key()},
        )
        assert r.status_code == 201, r.text
        pids.append(r.json()["id"])

    clients = [
        run_client(wide_client, i, pid, actor, steps)
        for i, pid in enumerate(pids)
        for actor, steps in scripts(area, i)
    ]
    assert len(clients) == PLACEMENTS * CLIENTS_PER_PLACEMENT == 32
    answers = [a for batch in await asyncio.gather(*clients) for a in batch]

    sealed = await assert_one_history_per_placement(superuser, pids, answers)
    result = await verify_chain(db)
    assert result.ok, result
    assert result.checked == sealed


async def test_concurrent_starts_never_take_an_unregistered_provider_over_the_threshold(
    wide_client: httpx.AsyncClient,
    wide_app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
) -> None:
    area = await make_area(wide_app, db, registration="unregistered", qa="approved")
    la = principal_of(area.la)
    pids = []
    async with db.writing() as uow:
        for i in range(6):
            child = Child(
                legal_first_name=f"Full{i}",
                legal_last_name="Time",
                date_of_birth=date(2011, 2, 1),
                home_la_id=area.la.id,
            )
            uow.session.add(child)
            await uow.session.flush()
            body = {**request_body(area), **complete_plan(area), "child_id": str(child.id)}
            pid = await service.request(uow, la, PlacementCreate.model_validate(body))
            await lifecycle.offer(uow, principal_of(area.provider), pid, OfferAction(), None)
            pids.append(pid)

    starts = [
        wide_client.post(
            f"/v1/placements/{pid}/start", json={}, headers={**area.provider_headers, **new_key()}
        )
        for pid in pids
    ]
    statuses = sorted(r.status_code for r in await asyncio.gather(*starts))
    # five full-time pupils would need registration as an independent school
    assert statuses == [200] * 4 + [422] * 2
    active = await superuser.fetchval("SELECT count(*) FROM placements WHERE status = 'active'")
    assert active == 4
    assert (await verify_chain(db)).ok
