"""The demo's webhook: `aphub demo` subscribes the City of London to everything it may
see, and `aphub webhooks listen` verifies and prints what the delivery job sends."""

from __future__ import annotations

import asyncio
import json

import asyncpg

from aphub.config import Settings
from aphub.db import Database
from aphub.demo import load_demo
from aphub.demo.webhooks import FILE, LISTEN_PATH, read_secret
from aphub.webhooks.delivery import Deliverer
from aphub.webhooks.listen import Listener
from tests.webhook_fixtures import until_idle


async def test_the_demo_subscription_delivers_its_feed_to_the_listener(
    db: Database, settings: Settings, superuser: asyncpg.Connection, deliverer: Deliverer
) -> None:
    assert await load_demo(db, settings, only_if_empty=True)
    written = json.loads((settings.data_dir / FILE).read_text())
    assert (settings.data_dir / FILE).stat().st_mode & 0o077 == 0  # the owner's only
    lines: list[str] = []
    listener = Listener(read_secret(settings), lines.append)
    server = await asyncio.start_server(listener.serve_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await superuser.execute(
        "UPDATE webhook_subscriptions SET url = $1",
        f"http://127.0.0.1:{port}{LISTEN_PATH}",
    )
    async with server:
        await until_idle(deliverer, limit=500)
    expected = await superuser.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE outcome = 'delivered'"
    )
    assert expected > 20, "the demo area's history reaches the City's receiver"
    assert len(lines) == expected
    assert all(line.startswith("#") for line in lines), lines[:5]
    through = await superuser.fetchval(
        "SELECT delivered_seq FROM webhook_subscriptions WHERE id = $1::uuid",
        written["subscription_id"],
    )
    assert through == await superuser.fetchval("SELECT seq FROM event_chain_head WHERE id = 1")


def test_the_listener_refuses_what_does_not_verify_and_drops_repeats() -> None:
    from aphub.webhooks.signing import headers, new_secret
    from tests.webhook_network import SimulatedClock

    lines: list[str] = []
    secret = new_secret()
    listener = Listener(secret, lines.append)
    at = SimulatedClock().now
    body = json.dumps({"sequence": 7, "type": "placement.started", "subject": "placement/x"})
    signed = headers([secret], "msg_1", at, body)
    assert listener.receive(signed, body.encode()) == 204
    assert listener.receive(signed, body.encode()) == 204
    forged = headers([new_secret()], "msg_2", at, body)
    assert listener.receive(forged, body.encode()) == 401
    assert lines == [
        "#7 placement.started (placement)",
        "dropped a repeated delivery",
        "refused a delivery whose signature does not verify",
    ]
