"""Deliveries as a receiver sees them: signed by the Standard Webhooks scheme and
verified with its library, CloudEvents the SDK parses, the same events the feed gives,
in order, surviving a receiver down for an hour, and no more about a child once the
relationship with it has ended (as at delivery, not as at the event).

Time is the test's (`SimulatedClock`): an hour passes without a second of sleep.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.webhooks.delivery import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, Deliverer
from tests import placement_factories as placements
from tests.webhook_fixtures import deliveries, feed_after, state, subscribe, until_idle
from tests.webhook_network import Receiver, SimulatedClock


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


async def _lifecycle(client: httpx.AsyncClient, area: placements.Area) -> str:
    """A placement requested, offered, started and reviewed: events the provider sees."""
    placement = await placements.active(client, area)
    pid = str(placement["id"])
    r = await client.post(
        f"/v1/placements/{pid}/reviews",
        json=placements.review_body(),
        headers=area.provider_headers,
    )
    assert r.status_code == 201, r.text
    return pid


async def test_every_delivery_verifies_parses_and_is_what_the_feed_gives(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
    deliverer: Deliverer,
) -> None:
    area = await placements.make_area(app, db)
    created = await subscribe(client, area.provider_headers, receiver)
    await _lifecycle(client, area)

    assert await until_idle(deliverer) > 0

    assert receiver.failures == []
    expected = await feed_after(client, area.provider_headers, created["delivered_through"])
    assert [e["type"] for e in expected] == [
        "webhook_subscription.created",
        "placement.requested",
        "placement.offered",
        "placement.started",
        "placement.reviewed",
    ]
    assert [d.json for d in receiver.deliveries] == expected
    for delivery, event in zip(receiver.deliveries, expected, strict=True):
        assert delivery.accepted
        assert delivery.event is not None
        assert delivery.headers["webhook-id"] == event["id"]
        assert delivery.headers["content-type"].startswith("application/cloudevents+json")
        assert delivery.event.get_id() == event["id"]
        assert delivery.event.get_type() == event["type"]
        assert delivery.event.get_data() == event.get("data")
        assert delivery.event.get_extension("sequence") == event["sequence"]
    sent = await state(client, area.provider_headers, created["id"])
    assert sent.delivered_through >= int(expected[-1]["sequence"])
    log = await deliveries(client, area.provider_headers, created["id"])
    assert [(d["sequence"], d["outcome"], d["status_code"]) for d in log] == [
        (int(e["sequence"]), "delivered", 204) for e in expected
    ]


async def test_deliveries_survive_a_receiver_down_for_an_hour_and_arrive_in_order(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
    deliverer: Deliverer,
    clock: SimulatedClock,
) -> None:
    area = await placements.make_area(app, db)
    created = await subscribe(client, area.provider_headers, receiver, event_types=["placement.*"])
    receiver.status = 503
    await _lifecycle(client, area)
    expected = [
        e
        for e in await feed_after(client, area.provider_headers, created["delivered_through"])
        if e["type"].startswith("placement.")
    ]
    back_at = clock() + timedelta(hours=1)

    for _ in range(100):  # an hour of backoff is a dozen attempts
        if clock() >= back_at:
            receiver.status = 204
        await until_idle(deliverer)
        now = await state(client, area.provider_headers, created["id"])
        if now.next_attempt_at is None:
            break
        assert now.enabled
        clock.advance_to(now.next_attempt_at)
    else:
        raise AssertionError("the deliveries never caught up")

    assert receiver.failures == []
    refused = [d for d in receiver.deliveries if not d.accepted]
    # head of line: while the receiver was down, only the first event was attempted
    assert {d.headers["webhook-id"] for d in refused} == {expected[0]["id"]}
    assert len(refused) >= 8  # an hour of exponential backoff from 5 seconds
    assert [d.json for d in receiver.accepted] == expected  # each once, in order
    log = await deliveries(client, area.provider_headers, created["id"])
    failed = [d for d in log if d["outcome"] == "failed"]
    assert [d["attempt"] for d in failed] == list(range(1, len(failed) + 1))
    assert all(d["status_code"] == 503 for d in failed)
    for n, attempt in enumerate(failed, start=1):
        wait = _at(attempt["next_attempt_at"]) - _at(attempt["attempted_at"])
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (n - 1))
        assert ceiling / 2 <= wait.total_seconds() <= ceiling, (n, wait)
    after = await state(client, area.provider_headers, created["id"])
    assert after.enabled
    assert after.consecutive_failures == 0


async def test_deliveries_stop_when_the_relationship_to_the_child_ends(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
    deliverer: Deliverer,
) -> None:
    """The provider sees the child while the placement is requested; once the placement
    is cancelled it sees nothing more about the child, not even the events it had not
    yet received when the relationship ended. The home LA, which still sees the child,
    receives them all; the provider keeps receiving what it may still see."""
    area = await placements.make_area(app, db)
    provider = await subscribe(client, area.provider_headers, receiver, "/provider")
    la = await subscribe(client, area.la_headers, receiver, "/la")
    placement = await placements.requested(client, area, **placements.complete_plan(area))
    await until_idle(deliverer)
    to_provider = [d.json["type"] for d in receiver.accepted if d.path == "/provider"]
    assert to_provider == ["webhook_subscription.created", "placement.requested"]

    receiver.status = 503  # the provider's receiver is down while the child's story goes on
    pid = placement["id"]
    r = await client.patch(
        f"/v1/placements/{pid}", json={"hours_per_week": 20}, headers=area.la_headers
    )
    assert r.status_code == 200, r.text
    await until_idle(deliverer)  # the LA's delivery fails too: it is retried below
    r = await client.post(
        f"/v1/placements/{pid}/cancel", json={"reason": "A school place was found"},
        headers=area.la_headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/v1/providers/{area.provider.id}",
        json={"description": "Motor vehicle workshop"},
        headers=area.provider_headers,
    )
    assert r.status_code == 200, r.text
    receiver.status = 204
    await _retry_now(client, deliverer, area, provider["id"], la["id"])

    assert receiver.failures == []
    after_end = [d.json for d in receiver.accepted if d.path == "/provider"][2:]
    assert [e["type"] for e in after_end] == ["provider.updated"]
    assert all(e.get("childid") is None for e in after_end)
    now_visible = await feed_after(client, area.provider_headers, provider["delivered_through"])
    assert not [e for e in now_visible if e.get("childid") == str(area.child.id)]
    to_la = [d.json["type"] for d in receiver.accepted if d.path == "/la"]
    assert to_la[-3:] == ["placement.varied", "placement.cancelled", "provider.updated"]


async def _retry_now(
    client: httpx.AsyncClient,
    deliverer: Deliverer,
    area: placements.Area,
    *subscriptions: str,
) -> None:
    """Run the job, moving its clock to each retry, until every subscription is idle."""
    headers = {subscriptions[0]: area.provider_headers, subscriptions[1]: area.la_headers}
    clock: Any = deliverer.clock
    for _ in range(20):
        await until_idle(deliverer)
        due = [
            s.next_attempt_at
            for sid in subscriptions
            if (s := await state(client, headers[sid], sid)).next_attempt_at is not None
        ]
        if not due:
            return
        clock.advance_to(min(due))
    raise AssertionError("deliveries kept failing")
