from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.auth.principal import Principal
from aphub.db import Database
from aphub.events.feed import read_feed
from aphub.events.log import Actor, record
from tests.factories import auth, make_org, token_for
from tests.placement_factories import active, make_area, requested


async def _all_events(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 500} | ({"after": cursor} if cursor else {})
        r = await client.get("/v1/events", params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        if not page["items"] or page["next_cursor"] == cursor:
            return items
        cursor = page["next_cursor"]


async def test_feed_delivers_placement_events_to_parties_and_hides_them_from_others(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    placement = await active(client, area)
    stranger = await make_org(db, "provider")
    provider_events = await _all_events(client, area.provider_headers)
    types = [e["type"] for e in provider_events if e["subject"].startswith("placement/")]
    assert types == [
        "placement.requested",
        "placement.offered",
        "placement.started",
    ]
    assert provider_events[0]["specversion"] == "1.0"
    assert provider_events[0]["childid"] == str(area.child.id)
    assert [e["sequence"] for e in provider_events] == sorted(
        (e["sequence"] for e in provider_events), key=int
    )
    la_types = [e["type"] for e in await _all_events(client, area.la_headers)]
    assert "placement.started" in la_types
    assert await _all_events(client, auth(token_for(app, stranger))) == []
    assert placement["status"] == "active"


async def test_operator_sees_metadata_but_never_payloads_or_children(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    await requested(client, area)
    operator = await make_org(db, "operator")
    events = await _all_events(client, auth(token_for(app, operator)))
    assert [e["type"] for e in events] == ["placement.requested"]
    assert "data" not in events[0]
    assert "childid" not in events[0]


async def test_provider_stops_receiving_events_once_access_ends(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    r = await client.post(
        f"/v1/placements/{pid}/decline", json={"reason": "No places"}, headers=area.provider_headers
    )
    assert r.status_code == 200
    # declined: the provider no longer sees the child, nor any event about it
    assert await _all_events(client, area.provider_headers) == []


async def test_reader_polling_during_concurrent_appends_misses_nothing(
    app: FastAPI, db: Database, client: httpx.AsyncClient
) -> None:
    operator = await make_org(db, "operator")
    headers = auth(token_for(app, operator))
    subject = uuid.uuid4()

    async def append(i: int) -> None:
        async with db.writing() as uow:
            record(
                uow,
                type="test.appended",
                subject_type="test",
                subject_id=subject,
                actor=Actor.system("test"),
                data={"i": i},
            )
            await asyncio.sleep(0.001 * (i % 7))

    seen: list[str] = []
    cursor = None
    writers = asyncio.gather(*(append(i) for i in range(60)))
    for _ in range(200):
        params = {"limit": 500} | ({"after": cursor} if cursor else {})
        page = (await client.get("/v1/events", params=params, headers=headers)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if writers.done() and len(seen) >= 60:
            break
        await asyncio.sleep(0)
    await writers
    page = (await client.get("/v1/events", params={"after": cursor}, headers=headers)).json()
    seen += [e["id"] for e in page["items"]]
    assert len(seen) == 60
    assert len(set(seen)) == 60


class _SealsDuringTheRead:
    """A read unit that, once the feed's statement has read, commits and seals one more
    event the caller may see: a poll racing an append."""

    def __init__(self, unit: Any, db: Database) -> None:
        self.unit, self.db, self.appended = unit, db, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unit, name)

    async def fetch(self, sql: str, /, **params: Any) -> Any:
        rows = await self.unit.fetch(sql, **params)
        if not self.appended:
            self.appended = True
            async with self.db.writing() as uow:
                record(
                    uow,
                    type="provider.updated",  # a directory event: every reader receives it
                    subject_type="organisation",
                    subject_id=uuid.uuid4(),
                    actor=Actor.system("test"),
                    data={"fields": ["name"]},
                )
            await self.db.seal_events()
        return rows


async def test_an_event_sealed_while_a_poll_reads_is_not_skipped(db: Database) -> None:
    """The window a poll examines and the events in it come from one snapshot: read apart,
    an event sealed between the two reads was inside the window the cursor moved past but
    not among the events handed out, and the reader (a feed client, a webhook
    subscription) never received it."""
    la = await make_org(db, "local_authority")
    await db.seal_events()
    principal = Principal(la.id, "local_authority", "test-client", frozenset({"events:read"}))
    async with db.reading() as unit:
        head = int(await unit.fetchval("SELECT coalesce(max(seq), 0) FROM events"))
        racing = _SealsDuringTheRead(unit, db)
        first, resume = await read_feed(racing, principal, head, 100)  # type: ignore[arg-type]
    assert racing.appended
    async with db.reading() as unit:
        then, _ = await read_feed(unit, principal, resume, 100)
    assert [e["type"] for e in first + then] == ["provider.updated"]
