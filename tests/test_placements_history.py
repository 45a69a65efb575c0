"""A placement's history: who did each step and when, the same facts the event feed
delivers, and nothing for a caller who may not see the placement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.factories import auth, make_org, token_for
from tests.placement_factories import Area, complete_plan, make_area, new_key, requested


async def walk(client: httpx.AsyncClient, area: Area) -> str:
    pid = (await requested(client, area))["id"]
    steps = [
        ("patch", "", complete_plan(area), area.la_headers),
        ("post", "/offer", {"note": "Mornings only at first"}, area.provider_headers),
        ("post", "/cancel", {"reason": "A school place was found"}, area.la_headers),
    ]
    for method, path, body, headers in steps:
        r = await client.request(
            method.upper(),
            f"/v1/placements/{pid}{path}",
            json=body,
            headers={**headers, **new_key()} if method == "post" else headers,
        )
        assert r.status_code == 200, r.text
    return str(pid)


async def test_history_shows_who_did_each_step_and_when_in_order(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    before = datetime.now().astimezone()
    pid = await walk(client, area)
    r = await client.get(f"/v1/placements/{pid}/history", headers=area.la_headers)
    assert r.status_code == 200, r.text
    history = r.json()
    assert [(h["type"], h["version"]) for h in history] == [
        ("placement.requested", 1),
        ("placement.varied", 2),
        ("placement.offered", 3),
        ("placement.cancelled", 4),
    ]
    la, provider = str(area.la.id), str(area.provider.id)
    assert [h["actor"]["organisation_id"] for h in history] == [la, la, provider, la]
    assert [h["actor"]["client_id"] for h in history] == [
        f"test-{area.la.id.hex}",
        f"test-{area.la.id.hex}",
        f"test-{area.provider.id.hex}",
        f"test-{area.la.id.hex}",
    ]
    times = [datetime.fromisoformat(h["occurred_at"]) for h in history]
    assert times == sorted(times)
    assert all(t >= before for t in times)
    assert [h["seq"] for h in history] == sorted(h["seq"] for h in history)
    assert history[1]["data"]["fields"] == sorted(complete_plan(area))
    assert history[3]["data"] == {"status": "cancelled", "reason": "A school place was found"}


async def test_history_matches_what_the_event_feed_delivers_to_the_commissioner(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    pid = await walk(client, area)
    history = (await client.get(f"/v1/placements/{pid}/history", headers=area.la_headers)).json()
    r = await client.get("/v1/events", params={"limit": 500}, headers=area.la_headers)
    assert r.status_code == 200, r.text
    feed = [e for e in r.json()["items"] if e["subject"] == f"placement/{pid}"]

    def as_feed(h: dict[str, Any]) -> tuple[Any, ...]:
        return (h["id"], h["type"], str(h["seq"]), h["actor"]["organisation_id"])

    assert [as_feed(h) for h in history] == [
        (e["id"], e["type"], e["sequence"], e["actororganisation"]) for e in feed
    ]
    assert [datetime.fromisoformat(h["occurred_at"]) for h in history] == [
        datetime.fromisoformat(e["time"].replace("Z", "+00:00")) for e in feed
    ]


async def test_history_and_reviews_of_a_placement_hidden_from_the_caller_are_404(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    stranger = auth(token_for(app, await make_org(db, "provider")))
    for path in ("history", "reviews"):
        r = await client.get(f"/v1/placements/{pid}/{path}", headers=stranger)
        assert r.status_code == 404, r.text
        r = await client.get(f"/v1/placements/{pid}/{path}", headers=area.school_headers)
        assert r.status_code == 404, r.text  # the school did not commission it
        r = await client.get(f"/v1/placements/{pid}/{path}", headers=area.provider_headers)
        assert r.status_code == 200, r.text
