"""The delivery job over time and beside itself: disabling after failing for the retry
period (an event the owner receives), secret rotation with overlap, replay, claims that
skip what another process holds, and the loop that runs in the server."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from aphub import jobs
from aphub.config import Settings
from aphub.db import Database
from aphub.webhooks.delivery import LEASE, Deliverer
from tests.factories import auth, make_org, token_for
from tests.provider_factories import make_la, make_provider
from tests.webhook_fixtures import BASE, feed_after, state, subscribe, until_idle
from tests.webhook_network import Receiver, SimulatedClock, verifying_at


async def _directory_change(client: httpx.AsyncClient, app: FastAPI, provider: Any, n: int) -> None:
    """An event every organisation reading events receives (the provider directory)."""
    r = await client.patch(
        f"/v1/providers/{provider.id}",
        json={"description": f"Workshop, revision {n}"},
        headers=auth(token_for(app, provider)),
    )
    assert r.status_code == 200, r.text


async def _watching_a_provider(
    client: httpx.AsyncClient, app: FastAPI, db: Database, receiver: Receiver
) -> tuple[dict[str, str], dict[str, Any], Any]:
    """An LA subscribed to its directory's events, and a provider of its area."""
    la = await make_org(db, "local_authority", la_code="202")
    headers = auth(token_for(app, la))
    created = await subscribe(client, headers, receiver, event_types=["provider.*"])
    return headers, created, await make_provider(db, la)


async def test_failing_for_the_retry_period_disables_with_an_event_to_the_owner(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    receiver: Receiver,
    clock: SimulatedClock,
) -> None:
    day = settings.model_copy(update={"webhook_disable_after_hours": 24})
    job = Deliverer(db, day, clock=clock, jitter=random.Random(3).random)
    school = await make_org(db, "school")
    headers = auth(token_for(app, school))
    failing = await subscribe(client, headers, receiver, "/down", event_types=["provider.*"])
    healthy = await subscribe(
        client, headers, receiver, "/up", event_types=["webhook_subscription.*"]
    )
    receiver.statuses["/down"] = 503
    provider = await make_provider(db, await make_la(db, "202"))
    await _directory_change(client, app, provider, 1)
    started = clock()
    with verifying_at(clock):
        for _ in range(200):
            await until_idle(job)
            now = await state(client, headers, failing["id"])
            if not now.enabled:
                break
            assert clock() - started < timedelta(hours=24, minutes=61)
            last_enabled_at = clock()
            assert now.next_attempt_at is not None
            clock.advance_to(now.next_attempt_at)
            assert not [d for d in receiver.deliveries if d.path == "/up" and not d.accepted]
        assert now.disabled_reason == "failing"
        assert clock() - started >= timedelta(hours=24)  # retried for at least a day
        assert last_enabled_at - started >= timedelta(hours=23)
        attempts = [d for d in receiver.deliveries if d.path == "/down"]
        assert len(attempts) >= 24  # backing off to hourly retries
        receiver.statuses["/down"] = 204  # back, but the subscription is disabled
        clock.advance(hours=30)
        await _directory_change(client, app, provider, 2)
        assert await until_idle(job) == 0
    await job.close()

    said = [e for e in await feed_after(client, headers, 0) if e["type"].endswith(".disabled")]
    assert len(said) == 1
    assert said[0]["data"]["subscription_id"] == failing["id"]
    assert said[0]["data"]["reason"] == "failing"
    assert said[0]["actorclient"] == "system:webhook-deliveries"
    pushed = [d.json["type"] for d in receiver.accepted if d.path == "/up"]
    assert "webhook_subscription.disabled" in pushed
    assert len([d for d in receiver.deliveries if d.path == "/down"]) == len(attempts)
    stranger = auth(token_for(app, await make_org(db, "school")))
    assert not [e for e in await feed_after(client, stranger, 0) if e["type"].startswith("web")]
    assert healthy["enabled"]


async def test_the_owner_re_enables_and_deliveries_resume_where_they_stopped(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    receiver: Receiver,
    deliverer: Deliverer,
) -> None:
    school = await make_org(db, "school")
    headers = auth(token_for(app, school))
    created = await subscribe(client, headers, receiver, event_types=["provider.*"])
    provider = await make_provider(db, await make_la(db, "202"))
    for n in range(3):
        await _directory_change(client, app, provider, n)
    await superuser.execute(
        "UPDATE webhook_subscriptions SET enabled = false, disabled_reason = 'failing'"
    )
    assert await until_idle(deliverer) == 0
    r = await client.patch(f"{BASE}/{created['id']}", json={"enabled": True}, headers=headers)
    assert r.status_code == 200, r.text
    await until_idle(deliverer)
    assert [d.json["data"]["changed"] for d in receiver.accepted] == [["description"]] * 3
    assert receiver.failures == []


async def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
    deliverer: Deliverer,
    clock: SimulatedClock,
) -> None:
    la = await make_org(db, "local_authority", la_code="202")
    headers = auth(token_for(app, la))
    created = await subscribe(client, headers, receiver, event_types=["provider.*"])
    old = created["secret"]
    r = await client.post(f"{BASE}/{created['id']}/rotate-secret", headers=headers)
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    receiver.secrets["/hooks/aphub"] = [new, old]  # each must verify every delivery
    provider = await make_provider(db, la)
    await _directory_change(client, app, provider, 1)
    await until_idle(deliverer)
    first = receiver.deliveries[-1]
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert receiver.failures == []

    clock.advance(hours=24, minutes=1)
    receiver.secrets["/hooks/aphub"] = [new]
    await _directory_change(client, app, provider, 2)
    await until_idle(deliverer)
    second = receiver.deliveries[-1]
    assert second.headers["webhook-id"] != first.headers["webhook-id"]
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    assert receiver.failures == []
    with verifying_at(clock):
        try:
            Webhook(old).verify(second.body, second.headers)
            raise AssertionError("the retired secret still signs")
        except WebhookVerificationError:
            pass


async def test_replay_sends_again_in_order_with_the_same_webhook_ids(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
    deliverer: Deliverer,
) -> None:
    headers, created, provider = await _watching_a_provider(client, app, db, receiver)
    for n in range(3):
        await _directory_change(client, app, provider, n)
    await until_idle(deliverer)
    first = [d.headers["webhook-id"] for d in receiver.accepted]
    assert len(first) == 3
    from_seq = receiver.accepted[1].sequence
    r = await client.post(
        f"{BASE}/{created['id']}/replay", json={"from_seq": from_seq}, headers=headers
    )
    assert r.status_code == 202, r.text
    await until_idle(deliverer)
    assert [d.headers["webhook-id"] for d in receiver.accepted] == [*first, *first[1:]]


async def test_a_replay_during_a_batch_wins_over_the_batch(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
    deliverer: Deliverer,
) -> None:
    """A batch claimed before a replay does not move the cursor when it ends."""
    headers, created, provider = await _watching_a_provider(client, app, db, receiver)
    for n in range(2):
        await _directory_change(client, app, provider, n)
    (lease,) = await deliverer.claim(5)
    r = await client.post(
        f"{BASE}/{created['id']}/replay",
        json={"from_seq": created["delivered_through"] + 1},
        headers=headers,
    )
    assert r.status_code == 202, r.text
    await deliverer.deliver(lease)  # sends both, then finds the replay
    await until_idle(deliverer)
    assert [d.json["data"]["changed"] for d in receiver.accepted] == [["description"]] * 4


async def test_claims_skip_what_another_process_holds(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    superuser: asyncpg.Connection,
    receiver: Receiver,
    clock: SimulatedClock,
) -> None:
    one = Deliverer(db, settings, clock=clock)
    two = Deliverer(db, settings, clock=clock)
    la = await make_org(db, "local_authority", la_code="202")
    headers = auth(token_for(app, la))
    ids = [
        (await subscribe(client, headers, receiver, f"/s{n}", event_types=["provider.*"]))["id"]
        for n in range(3)
    ]
    await _directory_change(client, app, await make_provider(db, la), 1)

    locked = superuser.transaction()
    await locked.start()
    try:  # a row another transaction holds is skipped, not waited for
        await superuser.execute(
            "SELECT 1 FROM webhook_subscriptions WHERE id = $1 FOR UPDATE", ids[0]
        )
        first = await asyncio.wait_for(one.claim(10), timeout=30)
    finally:
        await locked.rollback()
    assert sorted(str(lease.id) for lease in first) == sorted(ids[1:])
    assert [str(lease.id) for lease in await two.claim(10)] == [ids[0]]
    assert await one.claim(10) == []  # leased, all three
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert len(await two.claim(10)) == 3  # a lease left by a process that died runs out
    await one.close()
    await two.close()


async def test_two_processes_deliver_everything_once_and_in_order(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    receiver: Receiver,
    clock: SimulatedClock,
) -> None:
    one = Deliverer(db, settings, clock=clock)
    two = Deliverer(db, settings, clock=clock)
    la = await make_org(db, "local_authority", la_code="202")
    headers = auth(token_for(app, la))
    paths = [f"/s{n}" for n in range(4)]
    for path in paths:
        await subscribe(client, headers, receiver, path, event_types=["provider.*"])
    provider = await make_provider(db, la)
    for n in range(5):
        await _directory_change(client, app, provider, n)
    with verifying_at(clock):
        await asyncio.gather(until_idle(one), until_idle(two), until_idle(one))
    for path in paths:
        seqs = [d.sequence for d in receiver.accepted if d.path == path]
        assert len(seqs) == 5, (path, seqs)
        assert seqs == sorted(set(seqs)), (path, seqs)
    assert receiver.failures == []
    await one.close()
    await two.close()


async def test_the_job_in_the_server_delivers_as_soon_as_events_are_sealed(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    receiver: Receiver,
) -> None:
    """The loop `aphub jobs serve` and the server (APHUB_JOBS) run, on the real clock."""
    la = await make_org(db, "local_authority", la_code="202")
    headers = auth(token_for(app, la))
    await subscribe(client, headers, receiver, event_types=["provider.*"])
    slow = settings.model_copy(update={"webhook_poll_seconds": 60})
    loop = asyncio.create_task(jobs.deliver_webhooks(db, slow))
    try:
        await asyncio.sleep(0.2)  # the loop's first look finds nothing to do
        await _directory_change(client, app, await make_provider(db, la), 1)
        for _ in range(400):
            if receiver.accepted:
                break
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    assert [d.json["type"] for d in receiver.accepted] == ["provider.updated"]
    assert db.sealed_listeners == []
