"""What the webhook delivery tests share (the receiver, clock and delivery job fixtures
are in conftest.py): subscriptions made over the API, running the job until nothing is
due, and reading a subscription's state, log and feed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from aphub.webhooks.delivery import Deliverer
from tests.webhook_network import Receiver

BASE = "/v1/webhook-subscriptions"


async def subscribe(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    receiver: Receiver,
    path: str = "/hooks/aphub",
    **body: Any,
) -> dict[str, Any]:
    """A subscription to `receiver`, whose secret the receiver then verifies with."""
    body = {"url": receiver.url(path), **body}
    r = await client.post(BASE, json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    created = dict(r.json())
    receiver.secrets.setdefault(path, []).append(created["secret"])
    return created


async def until_idle(job: Deliverer, limit: int = 100) -> int:
    """Run passes until nothing is due now; the number of attempts made."""
    attempts = 0
    for _ in range(limit):
        batch = await job.run_once()
        if batch is None:
            return attempts
        attempts += len(batch.attempts)
    raise AssertionError("the delivery job never ran out of work")


@dataclass
class State:
    enabled: bool
    disabled_reason: str | None
    delivered_through: int
    next_attempt_at: datetime | None
    consecutive_failures: int


async def state(client: httpx.AsyncClient, headers: dict[str, str], sid: str) -> State:
    r = await client.get(f"{BASE}/{sid}", headers=headers)
    assert r.status_code == 200, r.text
    found = r.json()
    next_at = found["next_attempt_at"]
    return State(
        found["enabled"],
        found["disabled_reason"],
        found["delivered_through"],
        datetime.fromisoformat(next_at) if next_at else None,
        found["consecutive_failures"],
    )


async def feed_after(
    client: httpx.AsyncClient, headers: dict[str, str], after: int
) -> list[dict[str, Any]]:
    """What `GET /v1/events` gives the caller after a sequence number, now."""
    r = await client.get("/v1/events", params={"limit": 500}, headers=headers)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if int(e["sequence"]) > after]


async def deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], sid: str
) -> list[dict[str, Any]]:
    """The subscription's delivery log, oldest first."""
    r = await client.get(f"{BASE}/{sid}/deliveries", params={"limit": 500}, headers=headers)
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["items"]))
